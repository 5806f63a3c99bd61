"""Withdrawal: one participant leaves a dataset, everywhere it is shared.

:func:`withdraw` finds the subject in the current ``individuals`` table of the dataset
(every submission that holds them), then, holding the warehouse lock:

1. deletes their rows from all seven tables: one Delta commit per table (row-level
   deletes; only the files of the affected submissions' partitions are rewritten);
2. in one registry transaction: tombstones (``withdrawn``) their Phenopackets in every
   version, and the accepted input files and quality reports of every version of those
   submissions (see below); takes them out of their bundles, which get a new checksum;
   records the withdrawal (the subject as a salted hash, who, when, why) and commits the
   publication;
3. deletes the tombstoned files' bytes from the warehouse.

Input files and reports are tombstoned, not redacted: they are the submitter's bytes and
a report of them, and rewriting them would publish, under the same name, files nobody
submitted. The tables keep every other individual's lineage (file, sheet, row, column).

Old table snapshots still hold the rows until :mod:`harmonize.lifecycle.erase` expires
them; a later ingest never brings the subject back (:func:`withdrawn_subjects`).
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import insert, select

from harmonize.drs.models import DrsObjectRow
from harmonize.drs.registry import Registry
from harmonize.errors import ConfigurationError
from harmonize.lifecycle.erase import sweep
from harmonize.publish.stage import safe_name
from harmonize.settings import Settings
from harmonize.warehouse import TABLES, Warehouse, current, ledger
from harmonize.warehouse.ledger import PublicationRow, WithdrawalRow, subject_hash
from harmonize.warehouse.lock import warehouse_lock


@dataclass
class Withdrawal:
    """What a withdrawal did."""

    id: int
    status: str  # withdrawn | already-withdrawn
    seq: int = 0
    submissions: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    objects: int = 0
    bundles: list[str] = field(default_factory=list)
    created_time: datetime | None = None


def withdrawn_subjects(registry: Registry, dataset: str) -> set[str]:
    """The hashes of the subjects withdrawn from ``dataset`` (see :func:`subject_hash`)."""
    with registry.session() as session:
        return ledger.withdrawn(session, dataset)


def _find(
    warehouse: Warehouse,
    view: Any,
    dataset: str,
    subject: str,
    submissions: set[str] | None = None,
) -> dict[str, set[str]]:
    """The subject's phenopacket ids per submission, in the tables as ``view`` has them
    (only in ``submissions`` when given: partitions the rest is never read from)."""
    where: dict[str, str | set[str]] = {"dataset": dataset, "subject_id": subject}
    if submissions is not None:
        where["submission_id"] = submissions
    rows = warehouse.read(
        "individuals", view, columns=["submission_id", "phenopacket_id"], where=where
    )
    found: dict[str, set[str]] = defaultdict(set)
    for sid, pid in zip(
        rows.column("submission_id").to_pylist(),
        rows.column("phenopacket_id").to_pylist(),
        strict=True,
    ):
        found[sid].add(pid)
    return dict(found)


def _affected_objects(
    registry: Registry, found: dict[str, set[str]], indexed: set[str]
) -> list[DrsObjectRow]:
    """The live DRS objects that hold the subject: their Phenopackets in every version (the
    subject index, and by name those of the current rows), and every version's inputs
    and reports of the submissions that held them."""
    names = {sid: {f"{safe_name(pid)}.json" for pid in pids} for sid, pids in found.items()}
    out = []
    with registry.session() as session:
        rows = session.scalars(
            select(DrsObjectRow).where(
                DrsObjectRow.submission_id.in_(sorted(found)),
                DrsObjectRow.is_bundle.is_(False),
                DrsObjectRow.deleted.is_(False),
            )
        )
        for row in rows:
            if (
                row.role in ("input", "report")
                or row.id in indexed
                or (
                    row.path
                    and "/phenopackets/" in row.path
                    and row.name in names.get(row.submission_id, ())
                )
            ):
                out.append(row)
    return out


def _names(objects: list[DrsObjectRow], sid: str) -> set[str]:
    """The phenopacket ids (file names) of the subject's Phenopacket objects in ``sid``."""
    return {
        o.name[: -len(".json")]
        for o in objects
        if o.submission_id == sid and o.role == "published" and o.name.endswith(".json")
    }


def withdraw(
    settings: Settings,
    registry: Registry,
    *,
    dataset: str,
    subject: str,
    by: str,
    reason: str | None = None,
) -> Withdrawal:
    """Withdraw ``subject`` from ``dataset`` everywhere; see the module docstring.

    Raises :class:`~harmonize.errors.ConfigurationError` (nothing changes) when the
    subject is not in the dataset's current tables.
    """
    if not by.strip():
        raise ConfigurationError("say who withdraws the subject", hint="pass --by NAME")
    key = subject_hash(dataset, subject)
    warehouse = Warehouse.of(settings)
    with warehouse_lock(settings.registry, settings.workspace):
        with registry.session() as session:
            previous = session.scalars(
                select(WithdrawalRow).where(
                    WithdrawalRow.dataset == dataset, WithdrawalRow.subject_hash == key
                )
            ).first()
        with registry.session() as session:
            index = ledger.subject_objects(session, dataset, key)
        indexed = {row.object_id for row in index}
        submissions = {row.submission_id for row in index}
        view = current(registry)
        # the subject index names every submission that holds the subject; without an entry
        # (tables published by hand, or before the index), every partition is searched
        found = _find(warehouse, view, dataset, subject, submissions or None)
        everywhere: dict[str, set[str]] = {sid: set() for sid in submissions}
        for sid, pids in found.items():
            everywhere.setdefault(sid, set()).update(pids)
        objects = _affected_objects(registry, everywhere, indexed) if everywhere else []
        if previous is not None and not found and not objects:
            return Withdrawal(previous.id, "already-withdrawn", created_time=previous.created_time)
        if not found and not objects:
            raise ConfigurationError(
                f"no individual with subject id {subject!r} in dataset {dataset!r}",
                value=subject,
                hint="check the dataset and the subject id (the id the submitter gave); "
                "`harmonize tables show individuals` lists them",
            )
        before = current(registry)
        rows = {name: _count(warehouse, before, name, found) if found else 0 for name in TABLES}
        with registry.transaction() as conn:
            seq = ledger.begin(conn, "withdraw", dataset=dataset, note="one subject withdrawn")
        journal = {
            "seq": seq,
            "dataset": dataset,
            "subject_hash": key,
            "by": by,
            "reason": reason,
            "created": datetime.now(UTC).isoformat(),
            "current": {sid: sorted(pids) for sid, pids in found.items()},
            "everywhere": {
                sid: sorted(pids | _names(objects, sid)) for sid, pids in everywhere.items()
            },
            "objects": [o.id for o in objects],
            "paths": [o.path for o in objects if o.path],
            "rows": rows,
            "versions": dict(before.table_versions),
        }
        path = journal_path(settings, seq)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(orjson.dumps(journal))
        os.replace(tmp, path)
        return apply_withdrawal(settings, registry, path, warehouse)


def journal_path(settings: Settings, seq: int) -> Path:
    """Where a withdrawal's commit journal is kept until it is applied (then deleted)."""
    return settings.workspace / "journals" / f"withdraw-{seq}.json"


def apply_withdrawal(
    settings: Settings, registry: Registry, path: Path, warehouse: Warehouse | None = None
) -> Withdrawal:
    """Carry out a journaled withdrawal; safe to repeat after a crash at any point.

    Hold the warehouse lock. Each step is idempotent: the Delta deletes are tagged with the
    publication's number, the registry transaction is skipped if it committed, deleting a
    file or a copy twice is harmless.
    """
    journal: dict[str, Any] = orjson.loads(path.read_bytes())
    seq = journal["seq"]
    warehouse = warehouse or Warehouse.of(settings)
    found = {sid: set(pids) for sid, pids in journal["current"].items()}
    versions = dict(journal["versions"])
    for name in TABLES:
        if journal["rows"].get(name):
            versions[name] = warehouse.tables.delete_rows(name, found, seq=seq)
    with registry.session() as session:
        done = session.scalars(select(WithdrawalRow).where(WithdrawalRow.seq == seq)).first()
    if done is None:
        with registry.transaction() as conn:
            bundles = registry.tombstone(conn, journal["objects"], "withdrawn")
            conn.execute(
                insert(WithdrawalRow).values(
                    dataset=journal["dataset"],
                    subject_hash=journal["subject_hash"],
                    by=journal["by"],
                    reason=journal["reason"],
                    seq=seq,
                    rows=journal["rows"],
                    objects=len(journal["objects"]),
                    created_time=datetime.fromisoformat(journal["created"]),
                )
            )
            ledger.commit(
                conn,
                seq,
                versions,
                {
                    "withdrawn": journal["rows"],
                    "submissions": sorted(journal["everywhere"]),
                    "bundles": bundles,
                },
            )
    with registry.session() as session:
        row = session.scalars(select(WithdrawalRow).where(WithdrawalRow.seq == seq)).one()
        committed = session.get(PublicationRow, seq)
        bundles = list((committed.counts or {}).get("bundles", [])) if committed else []
    for rel in journal["paths"]:
        warehouse.files.delete(rel)
    every_pid = {pid for pids in journal["everywhere"].values() for pid in pids}
    sweep(settings, registry, journal["everywhere"], every_pid, journal["objects"])
    path.unlink(missing_ok=True)
    return Withdrawal(
        row.id,
        "withdrawn",
        seq,
        sorted(journal["everywhere"]),
        dict(journal["rows"]),
        len(journal["objects"]),
        bundles,
        row.created_time,
    )


def _count(warehouse: Warehouse, view: Any, name: str, found: dict[str, set[str]]) -> int:
    """The subject's rows in one table: what the withdrawal removes."""
    total = 0
    for sid, pids in found.items():
        table = warehouse.read(
            name,
            view,
            columns=["phenopacket_id"],
            where={"submission_id": sid, "phenopacket_id": pids},
        )
        total += table.num_rows
    return total
