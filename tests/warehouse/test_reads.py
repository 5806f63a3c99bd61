"""Reading the published tables: after a row-level delete, and in a process that then exits."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from harmonize.drs.registry import Registry
from harmonize.settings import Settings
from harmonize.warehouse import Warehouse, current
from tests.support.warehouse import publish_rows

ROOT = Path(__file__).resolve().parents[2]


def people(*ids: str) -> pa.Table:
    return pa.table(
        {"phenopacket_id": list(ids), "subject_id": list(ids), "sex": ["FEMALE"] * len(ids)}
    )


def test_reads_match_columns_after_a_delete_rewrote_the_files(tmp_path: Path) -> None:
    """A Delta delete rewrites the partition's files with string_view columns; a read
    that matches subject ids afterwards still answers (it raised ArrowNotImplementedError)."""
    settings = Settings(workspace=tmp_path / "ws")
    publish_rows(settings, "a", {"individuals": people("a1", "a2", "a3")})
    warehouse = Warehouse.of(settings)
    warehouse.tables.delete_rows("individuals", {"a": ["a1"]}, seq=10)
    view = current(Registry(settings.registry))
    view.table_versions["individuals"] = warehouse.tables.version("individuals")
    found = warehouse.read(
        "individuals", view, columns=["phenopacket_id"], where={"subject_id": {"a2", "a3"}}
    )
    assert sorted(found.column("phenopacket_id").to_pylist()) == ["a2", "a3"]
    assert warehouse.read("individuals", view, where={"submission_id": "b"}).num_rows == 0


READ_AND_EXIT = """
import sys
from harmonize.drs.registry import Registry
from harmonize.settings import Settings
from harmonize.warehouse import Warehouse, current
settings = Settings.model_validate_json(sys.argv[1])
rows = Warehouse.of(settings).read("individuals", current(Registry(settings.registry)))
print(rows.num_rows)
"""


def reads_exit_cleanly(settings: Settings, runs: int) -> None:
    publish_rows(settings, "a", {"individuals": people("a1", "a2")})
    codes = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(READ_AND_EXIT), settings.model_dump_json()],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
        codes.append((done.returncode, done.stdout.strip()))
    assert set(codes) == {(0, "2")}, codes


def test_a_process_that_read_the_tables_exits_cleanly(tmp_path: Path) -> None:
    """Scans through deltalake's own file system aborted the process at exit now and then
    (SIGABRT, "terminate called without an active exception"): 2 runs in 20 here."""
    reads_exit_cleanly(Settings(workspace=tmp_path / "ws"), 20)


@pytest.mark.integration
def test_a_process_that_read_the_tables_on_s3_exits_cleanly(
    tmp_path: Path, moto_endpoint: str, warehouse_bucket: str
) -> None:
    """The same on S3 (moto), where scans go through Arrow's S3 file system too."""
    settings = Settings(
        workspace=tmp_path / "ws",
        warehouse_url=f"s3://{warehouse_bucket}/warehouse",
        s3_endpoint_url=moto_endpoint,
    )
    warehouse = Warehouse.of(settings)
    assert type(warehouse.tables.scan_filesystem("individuals").base_fs).__name__ == "S3FileSystem"
    reads_exit_cleanly(settings, 10)


def test_a_match_on_any_column_still_reads_after_rows_were_deleted(tmp_path: Path) -> None:
    # a repeated withdrawal, or one of another subject of the same submission, failed to
    # read (delta-io/delta-rs#4579); the rows come back in the table's own types
    settings = Settings(workspace=tmp_path / "ws")
    publish_rows(settings, "a", {"individuals": people("a1", "a2", "a3")})
    seq = publish_rows(settings, "b", {"individuals": people("b1")})
    tables = Warehouse.of(settings).tables
    tables.delete_rows("individuals", {"a": ["a1"]}, seq=seq + 1)

    def subjects(where: dict[str, Any], columns: list[str] | None = None) -> list[str]:
        table = tables.read("individuals", where=where, columns=columns)
        return sorted(table.column("subject_id").to_pylist())

    assert subjects({"dataset": "test"}) == ["a2", "a3", "b1"]
    assert subjects({"subject_id": "a2"}, ["subject_id"]) == ["a2"]
    assert subjects({"subject_id": "a1"}) == []  # deleted
    both = {"subject_id": ["a3", "b1"], "submission_id": "a"}
    assert subjects(both, ["submission_id", "subject_id"]) == ["a3"]
    assert subjects({"subject_id": "nobody"}, ["subject_id"]) == []
    table = tables.read("individuals", where={"dataset": "test"})
    assert table.schema.field("subject_id").type == pa.string()  # as the table's schema
    assert tables.read("individuals").num_rows == 3
