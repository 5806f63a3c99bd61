"""Atomic publish: stage, journal, move, register, forget.

1. Everything is written under ``staging/<submission_id>/`` (see :mod:`.stage`).
2. ``commit.json`` is written there atomically: the directories to move and the DRS
   objects and bundle to register. From this moment the submission *will* be published.
3. Each staged directory is renamed into ``published/`` (a rename is atomic); a
   directory already in place is skipped, so repeating this step is harmless.
4. The DRS objects and bundle are registered in one transaction (idempotent), and the
   submission is marked published.
5. The staging directory is removed.

A crash before step 2 leaves only staging, which :func:`recover` deletes; a crash after
it is rolled forward by :func:`recover`. Either nothing or everything is published.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from harmonize.drs.ids import bundle_id as make_bundle_id
from harmonize.drs.ids import drs_id
from harmonize.drs.registry import BundleHeader, ObjectSpec, Registry
from harmonize.errors import PublishError
from harmonize.publish.stage import staged_files
from harmonize.state.store import StateStore

JOURNAL = "commit.json"
LOCK = ".lock"
# directories (relative to the staging root) that move as a whole into the workspace
MOVABLE_PARENTS = ("published/phenopackets", "published/inputs", "published/reports")


@contextmanager
def staging_lock(root: Path, *, wait: bool = True) -> Iterator[bool]:
    """Hold an exclusive lock on a staging directory while a run writes to it.

    Yields whether the lock is held: with ``wait=False`` it does not wait for a run that
    holds it (recovery skips such a directory).
    """
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / LOCK, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _moves(stage_root: Path) -> list[str]:
    """Relative directories to move: one per published location of this submission."""
    out: list[str] = []
    for parent in MOVABLE_PARENTS:
        base = stage_root / parent
        if base.is_dir():
            out += [f"{parent}/{p.name}" for p in sorted(base.iterdir())]
    tables = stage_root / "published/tables"
    if tables.is_dir():
        for table in sorted(tables.iterdir()):
            out += [f"published/tables/{table.name}/{p.name}" for p in sorted(table.iterdir())]
    return out


def write_journal(
    stage_root: Path,
    *,
    submission_id: str,
    manifest_sha256: str,
    dataset: str,
    access: str,
    description: str,
) -> dict[str, Any]:
    """Step 2: the commit decision. The files to register stay in ``files.jsonl``."""
    journal = {
        "submission_id": submission_id,
        "manifest_sha256": manifest_sha256,
        "dataset": dataset,
        "access": access,
        "created": datetime.now(UTC).isoformat(),
        "moves": _moves(stage_root),
        "bundle": {
            "id": make_bundle_id(submission_id, manifest_sha256),
            "name": submission_id,
            "description": description,
        },
    }
    tmp = stage_root / (JOURNAL + ".tmp")
    tmp.write_bytes(orjson.dumps(journal))
    os.replace(tmp, stage_root / JOURNAL)
    return journal


def _specs(stage_root: Path, journal: dict[str, Any]) -> Iterator[ObjectSpec]:
    """The DRS objects of the staged files, streamed (ids are derived from content)."""
    sid = journal["submission_id"]
    created = datetime.fromisoformat(journal["created"])
    for f in staged_files(stage_root):
        yield ObjectSpec(
            id=drs_id(sid, f.rel, f.sha256),
            name=f.name,
            path=f.rel,
            size=f.size,
            sha256=f.sha256,
            mime_type=f.mime_type,
            submission_id=sid,
            dataset=journal["dataset"],
            access=journal["access"],
            role=f.role,
            description=f"{f.role} file of submission {sid}",
            created_time=created,
        )


def apply_journal(
    stage_root: Path, workspace: Path, registry: Registry, state: StateStore
) -> dict[str, Any]:
    """Steps 3-5; safe to repeat after a crash at any point."""
    journal: dict[str, Any] = orjson.loads((stage_root / JOURNAL).read_bytes())
    sid = journal["submission_id"]
    try:
        for rel in journal["moves"]:
            src, dest = stage_root / rel, workspace / rel
            if not src.exists():
                continue  # moved before a crash
            if dest.exists():
                raise PublishError(
                    f"{rel} already exists in the workspace",
                    submission_id=sid,
                    hint="another version of this submission is published; use a new submission id",
                )
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.rename(src, dest)
    except OSError as exc:
        raise PublishError(f"moving staged files failed: {exc}", submission_id=sid) from exc
    b = journal["bundle"]
    header = BundleHeader(
        id=b["id"],
        name=b["name"],
        submission_id=sid,
        dataset=journal["dataset"],
        access=journal["access"],
        description=b["description"],
        created_time=datetime.fromisoformat(journal["created"]),
    )
    journal["objects"] = registry.register_stream(_specs(stage_root, journal), header)
    state.set_status(
        sid, journal["manifest_sha256"], "published", bundle_id=header.id, detail="committed"
    )
    shutil.rmtree(stage_root, ignore_errors=True)
    return journal


def recover(workspace: Path, registry: Registry, state: StateStore) -> list[str]:
    """Roll forward journaled commits and delete abandoned staging. Returns what it did."""
    staging = workspace / "staging"
    done: list[str] = []
    if not staging.is_dir():
        return done
    for root in sorted(p for p in staging.iterdir() if p.is_dir()):
        with staging_lock(root, wait=False) as held:
            if not held:
                continue  # a run is writing there right now
            if (root / JOURNAL).exists():
                apply_journal(root, workspace, registry, state)
                done.append(f"rolled forward {root.name}")
            else:
                shutil.rmtree(root, ignore_errors=True)
                done.append(f"discarded {root.name}")
    return done
