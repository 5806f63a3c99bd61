"""Publish hand-made table rows into a workspace's warehouse, as a committed publication.

For tests of what reads the published tables (ontology impact, discovery) without
running the pipeline: rows go through the same Delta commit and registry ledger.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from harmonize.drs.registry import Registry
from harmonize.mapping.tables import conform
from harmonize.settings import Settings
from harmonize.warehouse import TABLES, Warehouse, ledger
from harmonize.warehouse.rows import lifecycle_batches


def publish_rows(
    settings: Settings,
    submission_id: str,
    tables: dict[str, pa.Table],
    *,
    version: int = 1,
    dataset: str = "test",
    consent: list[str] | None = None,
) -> int:
    """Commit ``tables`` (mapped schemas; missing columns become nulls) as one publication."""
    registry = Registry(settings.registry)
    registry.create_all()
    warehouse = Warehouse.of(settings)
    with registry.transaction() as conn:
        seq = ledger.begin(
            conn, "publish", submission_id=submission_id, version=version, dataset=dataset
        )
    staged = settings.workspace / "staged-rows" / submission_id
    staged.mkdir(parents=True, exist_ok=True)
    versions = {}
    for name in TABLES:
        path: Path | None = None
        if name in tables:
            path = staged / f"{name}.parquet"
            pq.write_table(conform(name, tables[name]), path)
        data = lifecycle_batches(
            name,
            path,
            submission_id=submission_id,
            version=version,
            dataset=dataset,
            consent=consent or [],
        )
        versions[name] = warehouse.tables.replace_submission(name, submission_id, data, seq=seq)
    with registry.transaction() as conn:
        ledger.commit(conn, seq, versions, {})
    registry.dispose()
    return seq
