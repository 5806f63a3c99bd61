"""Convert a workspace published before the table format: hive Parquet folders to Delta tables.

Before, each submission's rows were ``published/tables/<table>/submission_id=<id>/
part-0.parquet``, its Phenopackets ``published/phenopackets/<id>/*.json`` and each table
file a DRS object. :func:`migrate`:

1. moves ``published/tables`` aside (``published/tables.pre-delta``);
2. commits each submission as version 1 (a ``migrate`` publication in the ledger, with
   the bundle it was registered under), its rows given the lifecycle columns;
3. moves its Phenopackets, inputs and reports into ``v1/`` and updates their DRS paths;
4. tombstones the old per-submission table files' DRS objects (``migrated``);
5. counts every table's rows per submission against the old files, and only then removes
   the old folder. A mismatch stops with an error and leaves the old folder in place.

Harmonize kept no consent before the table format (the manifest's DUO codes were checked,
then dropped), so a migrated submission has none, and ``tables export`` leaves it out,
unless the data centre says what its participants consented to: ``consent`` gives DUO codes
by submission id (``"*"``: every submission not named). They go into the individuals
table and onto the submission's DRS objects; the Phenopacket files keep their bytes (their
sha-256 is what DRS clients hold), so their ``metaData`` does not list them.

It holds the warehouse lock, and running it again continues where it stopped.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import Table, update

from harmonize.drs.models import DrsObjectRow
from harmonize.drs.registry import Registry
from harmonize.errors import PublishError
from harmonize.mapping.tables import conform
from harmonize.settings import Settings
from harmonize.warehouse import TABLES, Warehouse, current, ledger
from harmonize.warehouse.lock import warehouse_lock
from harmonize.warehouse.rows import lifecycle_batches

LEGACY = "published/tables.pre-delta"
_OBJECTS: Table = DrsObjectRow.__table__  # type: ignore[assignment]


def legacy_tables(workspace: Path) -> bool:
    """Whether the workspace still has hive-partitioned tables (or a migration to finish)."""
    tables = workspace / "published" / "tables"
    old_layout = tables.is_dir() and any(
        (t / "_delta_log").is_dir() is False and any(t.glob("submission_id=*"))
        for t in tables.iterdir()
    )
    return old_layout or (workspace / LEGACY).is_dir()


def _legacy_rows(old: Path) -> dict[str, Counter[str]]:
    """Rows per table and submission in the old folders."""
    counts: dict[str, Counter[str]] = {}
    for name in TABLES:
        counts[name] = Counter()
        for part in sorted((old / name).glob("submission_id=*")):
            sid = part.name.split("=", 1)[1]
            counts[name][sid] += sum(
                pq.ParquetFile(f).metadata.num_rows for f in part.glob("*.parquet")
            )
    return counts


def migrate(
    settings: Settings, registry: Registry, consent: Mapping[str, list[str]] | None = None
) -> list[str]:
    """Convert the workspace's hive tables into Delta tables; returns what it did.
    ``consent``: DUO codes by submission id, ``"*"`` for the rest (checked by the caller)."""
    if settings.warehouse_url is not None:
        raise PublishError(
            "migrate converts a local workspace; it was published before S3 was supported",
            hint="run it without --warehouse, then copy published/ to the bucket",
        )
    workspace = settings.workspace
    if not legacy_tables(workspace):
        return []
    done: list[str] = []
    with warehouse_lock(settings.registry, workspace):
        old = workspace / LEGACY
        expected = _legacy_rows(old if old.is_dir() else workspace / "published" / "tables")
        submissions = sorted(set().union(*expected.values()))
        unknown = sorted(set(consent or {}) - set(submissions) - {"*"})
        if unknown:
            raise PublishError(
                f"consent given for submissions the old tables do not hold: {unknown}",
                hint=f"the old tables hold {submissions}",
            )
        if not old.is_dir():
            os.rename(workspace / "published" / "tables", old)
            done.append(f"moved the old tables to {LEGACY}")
        with registry.session() as session:
            migrated = {
                r.submission_id
                for r in ledger.history(session, limit=1_000_000)
                if r.kind == "migrate"
            }
        warehouse = Warehouse.of(settings)
        for sid in submissions:
            if sid not in migrated:
                codes = list((consent or {}).get(sid, (consent or {}).get("*", [])))
                _migrate_submission(settings, registry, warehouse, old, sid, codes)
                given = f" with consent {', '.join(codes)}" if codes else " (no consent recorded)"
                done.append(f"migrated {sid} as version 1{given}")
        _check(warehouse, registry, expected)
        for path in sorted(old.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        old.rmdir()
        done.append(f"checked every table's rows per submission; removed {LEGACY}")
    return done


def _migrate_submission(
    settings: Settings,
    registry: Registry,
    warehouse: Warehouse,
    old: Path,
    sid: str,
    consent: list[str],
) -> None:
    rows = registry.objects_for_submission(sid, include_deleted=True)
    bundle = next((r for r in rows if r.is_bundle), None)
    dataset = bundle.dataset if bundle is not None else "default"
    state = _state_row(settings, sid, bundle.id if bundle is not None else None)
    with registry.transaction() as conn:
        seq = ledger.begin(
            conn,
            "migrate",
            submission_id=sid,
            version=1,
            manifest_sha256=state,
            bundle_id=bundle.id if bundle is not None else None,
            dataset=dataset,
            note="published before the table format; converted from hive Parquet",
        )
    scratch = settings.staging_dir / f".migrate-{sid}"
    scratch.mkdir(parents=True, exist_ok=True)
    versions = {}
    for name in TABLES:
        parts = sorted((old / name / f"submission_id={sid}").glob("*.parquet"))
        staged = None
        if parts:
            staged = scratch / f"{name}.parquet"
            pq.write_table(conform(name, pq.read_table(parts, partitioning=None)), staged)
        data = lifecycle_batches(
            name, staged, submission_id=sid, version=1, dataset=dataset, consent=consent
        )
        versions[name] = warehouse.tables.replace_submission(name, sid, data, seq=seq)
    with registry.transaction() as conn:
        for row in rows:
            if row.is_bundle or row.path is None:
                continue
            if row.path.startswith("published/tables/"):
                conn.execute(
                    update(_OBJECTS)
                    .where(_OBJECTS.c.id == row.id)
                    .values(
                        deleted=True,
                        tombstone="migrated",
                        updated_time=datetime.now(UTC),
                    )
                )
                continue
            moved = _into_v1(settings.workspace, row.path, sid)
            if moved != row.path or consent:
                conn.execute(
                    update(_OBJECTS)
                    .where(_OBJECTS.c.id == row.id)
                    .values(path=moved, version="1", **({"consent": consent} if consent else {}))
                )
        if bundle is not None and consent:
            conn.execute(update(_OBJECTS).where(_OBJECTS.c.id == bundle.id).values(consent=consent))
        ledger.index_subjects(conn, _subject_index(scratch, rows, sid, dataset))
        ledger.commit(conn, seq, versions, {"migrated": True})
    for leftover in scratch.iterdir():
        leftover.unlink()
    scratch.rmdir()


def _subject_index(
    scratch: Path, rows: list[DrsObjectRow], sid: str, dataset: str
) -> list[dict[str, object]]:
    """The subject index of a migrated submission: which Phenopacket holds which subject."""
    from harmonize.publish.objects import subject_index_rows

    by_name = {r.name: r.id for r in rows if r.path and "/phenopackets/" in r.path}
    return subject_index_rows(
        scratch / "individuals.parquet", by_name, dataset=dataset, submission_id=sid, version=1
    )


def _into_v1(workspace: Path, rel: str, sid: str) -> str:
    """Move a published file of ``sid`` into its ``v1/`` folder; its new relative path."""
    for kind in ("phenopackets", "inputs", "reports"):
        head = f"published/{kind}/{sid}/"
        if rel.startswith(head) and not rel[len(head) :].startswith("v1/"):
            new = f"{head}v1/{rel[len(head) :]}"
            src, dest = workspace / rel, workspace / new
            if src.exists():
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dest)
            return new
    return rel


def _state_row(settings: Settings, sid: str, bundle: str | None) -> str | None:
    """The manifest sha-256 the submission was published under (from the state store)."""
    from harmonize.state.store import StateStore

    for version in StateStore(settings.registry).versions(sid):
        if version["status"] == "published" and (bundle is None or version["bundle_id"] == bundle):
            sha: str = version["manifest_sha256"]
            return sha
    return None


def _check(warehouse: Warehouse, registry: Registry, expected: dict[str, Counter[str]]) -> None:
    view = current(registry)
    for name, counts in expected.items():
        table = warehouse.read(name, view, columns=["submission_id"])
        found = Counter(table.column("submission_id").to_pylist())
        missing = {sid: n for sid, n in counts.items() if found.get(sid, 0) != n}
        if missing:
            raise PublishError(
                f"table {name}: rows per submission differ after the migration: "
                f"expected {dict(missing)}, found { ({s: found.get(s, 0) for s in missing}) }",
                hint=f"the old tables are kept in {LEGACY}; report this",
            )
