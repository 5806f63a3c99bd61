"""Shared helpers for the reader tests."""

from __future__ import annotations

from pathlib import Path

from harmonize.readers import ReadOptions, SourceBatch, reader_for

DATA = Path(__file__).parent / "data"
REPO_DATA = Path(__file__).parents[1] / "data"
AIRE_XLSX = REPO_DATA / "phenopacket-store" / "AIRE" / "input" / "AIRE_APS1_individuals.xlsx"


def read_all(path: Path, **options: object) -> list[SourceBatch]:
    """Every batch the automatically chosen reader yields for ``path``."""
    return list(reader_for(path).read(path, ReadOptions(**options)))  # type: ignore[arg-type]


def rows_of(batches: list[SourceBatch]) -> list[dict[str, str | None]]:
    return [row for batch in batches for row in batch.table.to_pylist()]


def numbers_of(batches: list[SourceBatch]) -> list[int]:
    return [number for batch in batches for number in batch.rows.to_pylist()]
