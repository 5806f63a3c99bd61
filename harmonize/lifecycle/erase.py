"""Erasure: no byte of a withdrawn participant's data is left anywhere Harmonize keeps files.

A withdrawal (:mod:`.withdraw`) removes the participant from the current tables and
tombstones their files at once, and :func:`sweep` clears the copies outside the
published area right then: the landing store, ``incoming/``, ``runs/``, leftover
staging, the reports and Data Docs under ``reports/``, the ontology-impact report, the
review list's locations and the DRS rows' names. What it cannot clear then is history:
the older snapshots of the Delta tables still hold the rows, so that ``--as-of`` works.

:func:`erase` (``harmonize tables expire``, ``harmonize withdraw --erase``) expires that
history: every table's old files and log entries go (vacuum, checkpoint and log cleanup
with zero retention), and with them time travel to before the erasure. An embedded
SQLite registry is vacuumed, so deleted rows do not linger in its free pages.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, text, update

from harmonize.drs.models import DrsObjectRow
from harmonize.drs.registry import Registry
from harmonize.settings import Settings
from harmonize.warehouse import TABLES, Warehouse, ledger
from harmonize.warehouse.ledger import WithdrawalRow
from harmonize.warehouse.lock import warehouse_lock


@dataclass
class Erasure:
    """What an erasure removed."""

    files: dict[str, int] = field(default_factory=dict)  # data files removed per table
    withdrawals: int = 0  # withdrawals erased for the first time
    seq: int = 0


def sweep(
    settings: Settings,
    registry: Registry,
    submissions: Iterable[str],
    phenopacket_ids: set[str],
    object_ids: list[str],
) -> None:
    """Clear a withdrawn participant's copies outside the published tables (see the module)."""
    submissions = sorted(set(submissions))
    forget_copies(settings, submissions)
    for sid in submissions:
        _scrub_reports(settings.reports_dir / sid, phenopacket_ids)
        _scrub_stored_report(settings, sid, phenopacket_ids)
    _scrub_json(settings.reports_dir / "ontology-diff" / "latest.json", phenopacket_ids)
    with registry.transaction() as conn:
        # a tombstone keeps its id (never reused), not the name that held the participant's id
        for start in range(0, len(object_ids), 500):
            conn.execute(
                update(DrsObjectRow)
                .where(DrsObjectRow.id.in_(object_ids[start : start + 500]))
                .values(name="withdrawn", path=None, description="withdrawn", aliases=[])
            )
        _scrub_review(conn, phenopacket_ids)


def forget_copies(settings: Settings, submissions: Iterable[str]) -> None:
    """Delete the copies of these submissions outside the published area: every landed
    version, S3 downloads under ``incoming/``, run hand-off files, abandoned staging."""
    from harmonize.intake.landing import open_landing

    landing = open_landing(settings.landing, s3_endpoint_url=settings.s3_endpoint_url)
    for sid in sorted(set(submissions)):
        landing.forget(sid)
        shutil.rmtree(settings.workspace / "incoming" / sid, ignore_errors=True)
        for run in (settings.workspace / "runs").glob(f"{sid}-*"):
            shutil.rmtree(run, ignore_errors=True)
        staging = settings.staging_dir / sid
        if staging.is_dir() and not (staging / "commit.json").exists():
            shutil.rmtree(staging, ignore_errors=True)


def _mentions(value: Any, ids: set[str]) -> bool:
    text = json.dumps(value, ensure_ascii=False)
    return any(i in text for i in ids)


def _scrub_json(path: Path, ids: set[str]) -> None:
    """Drop every entry of a JSON report (lists of objects) that names one of ``ids``."""
    if not path.is_file() or not ids:
        return
    data = json.loads(path.read_text(encoding="utf-8"))

    def clean(node: Any) -> Any:
        if isinstance(node, list):
            return [clean(x) for x in node if not (isinstance(x, dict) and _mentions(x, ids))]
        if isinstance(node, dict):
            return {k: clean(v) for k, v in node.items()}
        return node

    path.write_text(json.dumps(clean(data), indent=2, ensure_ascii=False), encoding="utf-8")


def _scrub_reports(folder: Path, ids: set[str]) -> None:
    """A submission's local quality report without the participant's findings; its Data Docs
    (which list unexpected values) are removed: they are made again by a re-run."""
    if not folder.is_dir():
        return
    shutil.rmtree(folder / "data-docs", ignore_errors=True)
    report = folder / "report.json"
    if not report.is_file():
        return
    from harmonize.quality.findings import QualityReport
    from harmonize.quality.html import render_report, write_text_atomic

    _scrub_json(report, ids)
    parsed = QualityReport.model_validate_json(report.read_text(encoding="utf-8"))
    parsed.data_docs = []
    write_text_atomic(report, parsed.model_dump_json(indent=2))
    write_text_atomic(folder / "report.html", render_report(parsed))


def _scrub_stored_report(settings: Settings, sid: str, ids: set[str]) -> None:
    """The warehouse's copy of a report (``reports/<submission>/``), scrubbed like the local
    one: its Data Docs deleted, the JSON and HTML without the participant's findings."""
    import tempfile

    from harmonize.quality.report_store import REPORTS
    from harmonize.warehouse.files import open_files

    if settings.warehouse_url is None or not ids:
        return
    store = open_files(settings.warehouse_url, s3_endpoint_url=settings.s3_endpoint_url)
    prefix = f"{REPORTS}/{sid}"
    if not store.exists(f"{prefix}/report.json"):
        return
    settings.workspace.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".scrub-", dir=settings.workspace) as tmp:
        folder = Path(tmp)
        (folder / "report.json").write_bytes(store.get_bytes(f"{prefix}/report.json"))
        _scrub_reports(folder, ids)
        for rel in list(store.list(f"{prefix}/data-docs/")):
            store.delete(rel)
        store.put(folder / "report.html", f"{prefix}/report.html")
        store.put(folder / "report.json", f"{prefix}/report.json")


def _scrub_review(conn: Any, ids: set[str]) -> None:
    """The review list keeps the text to map, not where it came from for this participant."""
    from harmonize.state.review import review_items as items

    rows = conn.execute(select(items.c.id, items.c.location)).all()
    for row in rows:
        if row.location and _mentions(row.location, ids):
            conn.execute(update(items).where(items.c.id == row.id).values(location={}))


def erase(settings: Settings, registry: Registry) -> Erasure:
    """Expire every table's history, so withdrawn rows survive nowhere; see the module."""
    with warehouse_lock(settings.registry, settings.workspace):
        with registry.transaction() as conn:
            seq = ledger.begin(conn, "erase", note="history expired: withdrawn rows erased")
        return finish_erasure(settings, registry, seq)


def finish_erasure(settings: Settings, registry: Registry, seq: int) -> Erasure:
    """Carry out erasure ``seq`` (begun in the ledger); repeating it is harmless.

    Hold the warehouse lock: :func:`harmonize.publish.commit.recover` finishes one a
    crash interrupted.
    """
    warehouse = Warehouse.of(settings)
    out = Erasure(seq=seq)
    for name in TABLES:
        out.files[name] = len(warehouse.tables.erase(name))
    now = datetime.now(UTC)
    with registry.session() as session:
        latest = ledger.latest(session)
        versions = dict(latest.table_versions) if latest is not None else {}
        touched = {
            sid
            for row in ledger.history(session, limit=10_000_000)
            if row.kind == "withdraw"
            for sid in (row.counts or {}).get("submissions", [])
        }
    # submitted again since: their landed copies may hold a withdrawn individual
    forget_copies(settings, touched)
    for name in TABLES:
        if warehouse.tables.exists(name):
            versions[name] = warehouse.tables.version(name)
    with registry.transaction() as conn:
        result = conn.execute(
            update(WithdrawalRow).where(WithdrawalRow.erased_time.is_(None)).values(erased_time=now)
        )
        out.withdrawals = int(result.rowcount or 0)
        ledger.commit(conn, seq, versions, {"erased_files": out.files})
    _vacuum(registry)
    return out


def _vacuum(registry: Registry) -> None:
    """SQLite keeps deleted rows in free pages and its WAL: rewrite the file, truncate the WAL."""
    if registry.engine.dialect.name != "sqlite":
        return
    with registry.engine.connect() as conn:
        conn.execute(text("VACUUM"))
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
