"""Staged table files as rows of the published tables (the lifecycle columns added).

A submission's harmonized tables are staged as plain Parquet files (one per table, the
mapped schema). Committing them streams each file's batches with the columns every
published row carries: ``submission_id``, ``submission_version``, ``dataset`` and, in
``individuals``, the ``consent`` that applies: the row's own DUO codes where the mapping
gave a consent column and the row has some, else the manifest's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from harmonize.warehouse.delta import schema

# rows read at a time: reading the staged 9.5M phenotypic-feature rows of 1M individuals
# raised RSS by 138 MB in batches of 65,536 (threads, pre-buffering), by 34 MB in these
BATCH_ROWS = 16_384


def lifecycle_batches(
    name: str,
    staged: Path | None,
    *,
    submission_id: str,
    version: int,
    dataset: str,
    consent: list[str],
) -> pa.RecordBatchReader:
    """The staged rows of table ``name`` (none when ``staged`` is missing), ready to commit."""
    target = schema(name)

    def batches() -> Iterator[pa.RecordBatch]:
        if staged is None or not staged.exists():
            return
        for batch in pq.ParquetFile(staged, pre_buffer=False).iter_batches(
            batch_size=BATCH_ROWS, use_threads=False
        ):
            n = batch.num_rows
            extra = {
                "submission_id": pa.repeat(submission_id, n).cast(pa.string()),
                "submission_version": pa.repeat(version, n).cast(pa.int32()),
                "dataset": pa.repeat(dataset, n).cast(pa.string()),
            }
            if name == "individuals":
                codes = pa.scalar(consent, pa.list_(pa.string()))
                own = batch.schema.get_field_index("consent")  # older staged files have none
                extra["consent"] = (
                    pc.fill_null(batch.column(own), codes) if own >= 0 else pa.repeat(codes, n)
                )
            columns = [extra[f.name] if f.name in extra else batch.column(f.name) for f in target]
            yield pa.RecordBatch.from_arrays(columns, schema=target)

    return pa.RecordBatchReader.from_batches(target, batches())
