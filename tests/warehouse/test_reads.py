"""Filtered reads of the published tables, before and after a withdrawal's row deletes."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds

from harmonize.settings import Settings
from harmonize.warehouse import Warehouse
from tests.support.warehouse import publish_rows


def people(*ids: str) -> pa.Table:
    return pa.table({"phenopacket_id": list(ids), "subject_id": list(ids)})


def test_a_filter_on_any_column_still_reads_after_rows_were_deleted(tmp_path: Path) -> None:
    # deltalake's delete rewrites the partition's files with string_view columns, which a
    # pyarrow filter on a string column refused (delta-io/delta-rs#4579): a repeated
    # withdrawal, or one of another subject of the same submission, failed to read
    settings = Settings(workspace=tmp_path / "ws")
    publish_rows(settings, "a", {"individuals": people("a1", "a2", "a3")})
    seq = publish_rows(settings, "b", {"individuals": people("b1")})
    tables = Warehouse.of(settings).tables
    tables.delete_rows("individuals", {"a": ["a1"]}, seq=seq + 1)

    def subjects(where: ds.Expression, columns: list[str] | None = None) -> list[str]:
        table = tables.read("individuals", filters=where, columns=columns)
        return sorted(table.column("subject_id").to_pylist())

    assert subjects(ds.field("dataset") == "test") == ["a2", "a3", "b1"]
    assert subjects(ds.field("subject_id") == "a2", ["subject_id"]) == ["a2"]
    assert subjects(ds.field("subject_id") == "a1") == []  # deleted
    both = (ds.field("subject_id").isin(["a3", "b1"])) & (ds.field("submission_id") == "a")
    assert subjects(both, ["submission_id", "subject_id"]) == ["a3"]
    assert subjects(ds.field("subject_id") == "nobody", ["subject_id"]) == []
    table = tables.read("individuals", filters=ds.field("dataset") == "test")
    assert table.schema.field("subject_id").type == pa.string()  # as the table's schema
    assert tables.read("individuals").num_rows == 3
