"""Atomic publish of one submission version: stage, journal, put files, commit tables, register.

1. Everything is written under ``staging/<submission_id>/`` (see :mod:`.stage`).
2. Under the warehouse lock (:mod:`harmonize.warehouse.lock`), the publication gets its
   sequence number and the submission its next version number, and ``commit.json`` is
   written atomically. From this moment the version *will* be published.
3. The staged files go to their versioned places in the warehouse
   (``published/<kind>/<submission>/v<N>/...``): a rename on local disk, a PUT on S3.
4. Each of the tables gets one Delta commit replacing the submission's rows, tagged
   with the sequence number (a repeated commit is recognised and skipped).
5. One registry transaction registers the DRS objects and the bundle, marks the previous
   version superseded, and commits the publication with the Delta version of every
   table: the moment readers see the new version.
6. The staging directory is removed.

A crash before step 2 leaves only staging, which :func:`recover` deletes; a crash after
it is rolled forward by :func:`recover`. Either nothing or everything is published.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from harmonize.drs.ids import bundle_id as make_bundle_id
from harmonize.drs.registry import BundleHeader, Registry
from harmonize.errors import PublishError
from harmonize.publish.objects import SubjectIndex, object_specs, subject_index_rows, versioned
from harmonize.publish.stage import Stage, StagedFile, staged_files
from harmonize.quality.report_store import SavedReport
from harmonize.settings import Settings
from harmonize.state.store import StateStore
from harmonize.submission.receive import Submission
from harmonize.warehouse import TABLES, Warehouse, ledger
from harmonize.warehouse.files import LocalFiles
from harmonize.warehouse.lock import warehouse_lock
from harmonize.warehouse.rows import lifecycle_batches

JOURNAL = "commit.json"
LOCK = ".lock"
# a journal's flag: its stage's Phenopacket records carry their subjects (older ones do not)
STAGED_SUBJECTS = "staged_subjects"


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


def table_file(stage_root: Path, name: str) -> Path:
    """Where a table's rows are staged (plain Parquet, the mapped schema)."""
    return stage_root / "tables" / f"{name}.parquet"


def write_journal(stage_root: Path, journal: dict[str, Any]) -> dict[str, Any]:
    """Step 2: the commit decision. The files to publish stay in ``files.jsonl``."""
    tmp = stage_root / (JOURNAL + ".tmp")
    tmp.write_bytes(orjson.dumps(journal))
    os.replace(tmp, stage_root / JOURNAL)
    return journal


def plan(
    registry: Registry,
    *,
    submission_id: str,
    manifest_sha256: str,
    identity: dict[str, str | None],
    version_sha256: str,
    dataset: str,
    access: str,
    consent: list[str],
    description: str,
    counts: dict[str, int],
) -> dict[str, Any]:
    """Start the publication (its sequence number) and decide the version number.

    Call it holding the warehouse lock: the version is the next after the committed ones.
    """
    with registry.session() as session:
        done = ledger.versions(session, submission_id)
    previous = done[-1] if done else None
    version = (previous.version or 0) + 1 if previous else 1
    bundle = make_bundle_id(submission_id, version_sha256)
    with registry.transaction() as conn:
        seq = ledger.begin(
            conn,
            "publish",
            submission_id=submission_id,
            version=version,
            manifest_sha256=manifest_sha256,
            version_sha256=version_sha256,
            bundle_id=bundle,
            dataset=dataset,
        )
    return {
        "seq": seq,
        "submission_id": submission_id,
        "version": version,
        "manifest_sha256": manifest_sha256,
        "version_sha256": version_sha256,
        "identity": identity,
        "dataset": dataset,
        "access": access,
        "consent": consent,
        "created": datetime.now(UTC).isoformat(),
        "previous_bundle": previous.bundle_id if previous else None,
        "counts": counts,
        "bundle": {"id": bundle, "name": submission_id, "description": description},
        STAGED_SUBJECTS: True,
    }


def _put_files(stage_root: Path, warehouse: Warehouse, journal: dict[str, Any]) -> None:
    sid, version = journal["submission_id"], journal["version"]
    files = warehouse.files
    renamed = (
        _rename_folders(stage_root, files, sid, version) if isinstance(files, LocalFiles) else set()
    )
    moves: list[tuple[Path, str]] = []
    f: StagedFile
    for f in staged_files(stage_root):
        if f.rel.rsplit("/", 1)[0] in renamed:
            continue
        src, rel = stage_root / f.rel, versioned(f.rel, sid, version)
        if src.exists():  # else put before a crash
            moves.append((src, rel))
    files.move_all(moves)


def _rename_folders(stage_root: Path, files: LocalFiles, sid: str, version: int) -> set[str]:
    """Rename each staged folder into place whole when its version folder is new and it
    holds just the files staged in it: one rename for 100,000 Phenopackets, not 100,000.
    What a crash leaves half done, the file-by-file pass after it finishes. Returns the
    folders renamed."""
    listed: Counter[str] = Counter(
        f.rel.rsplit("/", 1)[0] for f in staged_files(stage_root) if "/" in f.rel
    )
    renamed: set[str] = set()
    for folder, count in listed.items():
        source = stage_root / folder
        dest = files.path(versioned(f"{folder}/-", sid, version)).parent
        if count < 2 or dest.exists() or not source.is_dir():
            continue
        with os.scandir(source) as entries:
            present = sum(1 for e in entries if e.is_file(follow_symlinks=False))
        if present != count or sum(1 for _ in source.iterdir()) != count:
            continue  # some already moved, or something else in it
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(source, dest)
        except OSError:
            continue  # another file system: file by file
        renamed.add(folder)
    return renamed


def apply_journal(
    stage_root: Path, settings: Settings, registry: Registry, state: StateStore
) -> dict[str, Any]:
    """Steps 3-6; safe to repeat after a crash at any point. Hold the warehouse lock."""
    from harmonize.drs.registration import register_stream

    journal: dict[str, Any] = orjson.loads((stage_root / JOURNAL).read_bytes())
    if "seq" not in journal:
        raise PublishError(
            f"{stage_root} holds a commit journal from an older Harmonize",
            hint="run `harmonize recover` with the version that wrote it, then upgrade",
        )
    sid, seq, version = journal["submission_id"], journal["seq"], journal["version"]
    warehouse = Warehouse.of(settings)
    try:
        _put_files(stage_root, warehouse, journal)
    except OSError as exc:
        raise PublishError(f"publishing staged files failed: {exc}", submission_id=sid) from exc
    table_versions = {}
    for name in TABLES:
        data = lifecycle_batches(
            name,
            table_file(stage_root, name),
            submission_id=sid,
            version=version,
            dataset=journal["dataset"],
            consent=journal["consent"],
        )
        table_versions[name] = warehouse.tables.replace_submission(name, sid, data, seq=seq)
    b = journal["bundle"]
    header = BundleHeader(
        id=b["id"],
        name=b["name"],
        submission_id=sid,
        dataset=journal["dataset"],
        access=journal["access"],
        description=f"{b['description']}, version {version}",
        created_time=datetime.fromisoformat(journal["created"]),
        version=str(version),
        consent=journal["consent"],
    )
    with registry.transaction() as conn:
        legacy: dict[str, str] = {}
        index = SubjectIndex(conn, journal) if journal.get(STAGED_SUBJECTS) else legacy
        journal["objects"] = register_stream(
            conn, object_specs(stage_root, journal, index), header, registry.chunk
        )
        if isinstance(index, SubjectIndex):
            index.flush()
        else:
            rows = subject_index_rows(
                table_file(stage_root, "individuals"),
                legacy,
                dataset=journal["dataset"],
                submission_id=journal["submission_id"],
                version=journal["version"],
            )
            ledger.index_subjects(conn, rows)
        if journal["previous_bundle"]:
            registry.supersede(conn, journal["previous_bundle"], header.id)
        ledger.commit(conn, seq, table_versions, {"rows": journal["counts"]})
    state.set_status(
        sid, journal["manifest_sha256"], "published", bundle_id=header.id, detail="committed"
    )
    shutil.rmtree(stage_root, ignore_errors=True)
    return journal


def recover(settings: Settings, registry: Registry, state: StateStore) -> list[str]:
    """Roll forward journaled commits and delete abandoned staging. Returns what it did.

    A publication left pending without a journal (a crash before the journal was
    written) is marked ``abandoned``: nothing of it was committed.
    """
    from harmonize.lifecycle.erase import finish_erasure
    from harmonize.lifecycle.withdraw import apply_withdrawal

    staging = settings.workspace / "staging"
    roots = sorted(p for p in staging.iterdir() if p.is_dir()) if staging.is_dir() else []
    journals = sorted((settings.workspace / "journals").glob("withdraw-*.json"))
    with registry.session() as session:
        pending = ledger.pending(session)
    if not roots and not pending and not journals:
        return []
    done: list[str] = []
    with warehouse_lock(settings.registry, settings.workspace):
        for root in roots:
            with staging_lock(root, wait=False) as held:
                if not held:
                    continue  # a run is writing there right now
                if (root / JOURNAL).exists():
                    apply_journal(root, settings, registry, state)
                    done.append(f"rolled forward {root.name}")
                else:
                    shutil.rmtree(root, ignore_errors=True)
                    done.append(f"discarded {root.name}")
        for journal in sorted((settings.workspace / "journals").glob("withdraw-*.json")):
            apply_withdrawal(settings, registry, journal)
            done.append(f"rolled forward the withdrawal of {journal.stem.split('-', 1)[1]}")
        for row in ledger_pending(registry, kind="erase"):
            finish_erasure(settings, registry, row.seq)
            done.append(f"finished erasure {row.seq}")
        with registry.session() as session:
            stale = ledger.pending(session)
        if stale:
            with registry.transaction() as conn:
                ledger.abandon(conn, [row.seq for row in stale])
            done += [
                f"abandoned publication {row.seq} (nothing of it was committed)" for row in stale
            ]
    return done


def _no_late_withdrawal(stage_root: Path, registry: Registry, dataset: str, sid: str) -> None:
    """Raise a transient error if a subject staged here was withdrawn while the submission
    was harmonized (the check at harmonize time missed it): the retry leaves them out."""
    from harmonize.lifecycle.withdraw import withdrawn_subjects
    from harmonize.warehouse.ledger import subject_hash

    staged = table_file(stage_root, "individuals")
    if not staged.exists():
        return
    withdrawn = withdrawn_subjects(registry, dataset)
    if not withdrawn:
        return
    import pyarrow.parquet as pq

    subjects = (
        s
        for batch in pq.ParquetFile(staged).iter_batches(batch_size=65_536, columns=["subject_id"])
        for s in batch.column(0).to_pylist()
    )
    if any(s is not None and subject_hash(dataset, s) in withdrawn for s in subjects):
        raise PublishError(
            "an individual of this submission was withdrawn while it was being processed",
            submission_id=sid,
            hint="retry: the new run leaves the withdrawn individual out",
        )


def ledger_pending(registry: Registry, *, kind: str) -> list[Any]:
    with registry.session() as session:
        return [row for row in ledger.pending(session) if row.kind == kind]


def commit_staged(
    submission: Submission,
    settings: Settings,
    stores: Any,
    stage: Stage,
    counts: dict[str, int],
    report: SavedReport,
    before_commit: Callable[[Path], None] | None = None,
    *,
    inputs: bool = True,
) -> dict[str, Any]:
    """Publish what ``stage`` holds as the submission's next version (steps 2-6).

    ``inputs`` false leaves the submitted files out (they hold a withdrawn individual).
    """
    from harmonize.publish.versions import ontologies_sha256

    for f in submission.files if inputs else ():
        stage.add_input(f.path, f.name)
    if submission.mapping_path is not None:  # lineage: the mapping shaped the output
        stage.add_input(submission.mapping_path, f"mapping/{submission.mapping_path.name}")
    stage.add_report(report.json_path, report.html_path)
    stage.seal()
    manifest = submission.manifest
    ontologies = ontologies_sha256(settings)
    registry, state = stores.registry, stores.state
    with warehouse_lock(settings.registry, settings.workspace):
        _no_late_withdrawal(stage.root, registry, manifest.dataset, submission.id)
        journal = write_journal(
            stage.root,
            plan(
                registry,
                submission_id=submission.id,
                manifest_sha256=submission.manifest_sha256,
                identity=submission.identity(ontologies),
                version_sha256=submission.version_sha256(ontologies),
                dataset=manifest.dataset,
                access=manifest.access,
                consent=list(manifest.consent),
                description=f"{manifest.dataset} submission {submission.id} by "
                f"{manifest.submitter} ({manifest.profile})",
                counts=counts,
            ),
        )
        state.set_status(
            submission.id,
            submission.manifest_sha256,
            "processing",
            report_path=report.uri,
            stats=counts,
            detail=f"committing version {journal['version']}",
        )
        if before_commit is not None:
            before_commit(stage.root)
        return apply_journal(stage.root, settings, registry, state)
