"""``DeltaWarehouse.replace_submission``: data files written batch by batch by pyarrow, then
one Delta commit per table and publication (``create_write_transaction``)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

from harmonize.errors import PublishError
from harmonize.warehouse import delta
from harmonize.warehouse.delta import APP_ID, PARTITION, DeltaWarehouse, schema
from harmonize.warehouse.files import LocalFiles

NAME = "phenotypic_features"


def rows(submission_id: str, ids: list[str], *, version: int = 1) -> pa.RecordBatchReader:
    """Rows of the published schema (mapped columns null but the id and term)."""
    target = schema(NAME)
    n = len(ids)
    given = {
        PARTITION: pa.array([submission_id] * n, pa.string()),
        "submission_version": pa.array([version] * n, pa.int32()),
        "dataset": pa.array(["d"] * n, pa.string()),
        "phenopacket_id": pa.array(ids, pa.string()),
        "term_id": pa.array([f"HP:{i:07d}" for i in range(n)], pa.string()),
    }
    columns = [given.get(f.name, pa.nulls(n, f.type)) for f in target]
    table = pa.Table.from_arrays(columns, schema=target)
    return pa.RecordBatchReader.from_batches(target, table.to_batches(max_chunksize=7))


def published(warehouse: DeltaWarehouse, submission_id: str) -> list[tuple[str, str, int]]:
    got = warehouse.read(
        NAME,
        columns=["phenopacket_id", "term_id", "submission_version"],
        where={PARTITION: submission_id},
    )
    return sorted(zip(*(got.column(c).to_pylist() for c in got.column_names), strict=True))


def log_actions(warehouse: DeltaWarehouse, version: int) -> list[dict[str, object]]:
    log = Path(warehouse.uri(NAME)) / "_delta_log" / f"{version:020d}.json"
    return [json.loads(line) for line in log.read_text().splitlines()]


@pytest.fixture
def warehouse(tmp_path: Path) -> DeltaWarehouse:
    return DeltaWarehouse(LocalFiles(tmp_path))


def test_a_new_version_replaces_the_submissions_rows_in_one_commit(
    warehouse: DeltaWarehouse,
) -> None:
    v1 = warehouse.replace_submission(NAME, "a", rows("a", ["a1", "a2", "a3"]), seq=1)
    warehouse.replace_submission(NAME, "b", rows("b", ["b1"]), seq=2)
    v3 = warehouse.replace_submission(NAME, "a", rows("a", ["a9"], version=2), seq=3)
    assert v3 == v1 + 2  # one Delta version per call
    assert published(warehouse, "a") == [("a9", "HP:0000000", 2)]
    assert published(warehouse, "b") == [("b1", "HP:0000000", 1)]
    actions = log_actions(warehouse, v3)
    kinds = sorted(next(iter(a)) for a in actions)
    assert kinds == ["add", "commitInfo", "remove", "txn"]  # a's old file out, the new in
    (removed,) = [a["remove"] for a in actions if "remove" in a]
    assert removed["partitionValues"] == {PARTITION: "a"}  # type: ignore[index]
    (added,) = [a["add"] for a in actions if "add" in a]
    assert json.loads(added["stats"])["numRecords"] == 1  # type: ignore[index]
    info = next(a["commitInfo"] for a in actions if "commitInfo" in a)
    assert info["harmonize.publication"] == "3"  # type: ignore[index]
    # the old version stays readable (time travel)
    old = warehouse.read(NAME, v1, columns=["phenopacket_id"])
    assert sorted(old.column(0).to_pylist()) == ["a1", "a2", "a3"]


def test_a_repeated_commit_is_recognised_and_skipped(warehouse: DeltaWarehouse) -> None:
    done = warehouse.replace_submission(NAME, "a", rows("a", ["a1"]), seq=5)
    again = warehouse.replace_submission(NAME, "a", rows("a", ["x1", "x2"]), seq=5)
    assert again == done
    assert published(warehouse, "a") == [("a1", "HP:0000000", 1)]
    assert warehouse.applied(NAME) == 5


def test_no_rows_remove_the_submission_in_one_commit(warehouse: DeltaWarehouse) -> None:
    warehouse.replace_submission(NAME, "a", rows("a", ["a1", "a2"]), seq=1)
    before = warehouse.version(NAME)
    after = warehouse.replace_submission(NAME, "a", rows("a", []), seq=2)
    assert after == before + 1
    assert published(warehouse, "a") == []
    assert warehouse.applied(NAME) == 2


def test_big_data_is_written_in_row_groups_and_several_files_of_one_commit(
    warehouse: DeltaWarehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delta, "ROW_GROUP_ROWS", 20)
    monkeypatch.setattr(delta, "TARGET_FILE_BYTES", 1)  # a new file after each row group
    ids = [f"a{i}" for i in range(50)]
    version = warehouse.replace_submission(NAME, "a", rows("a", ids), seq=1)
    assert version == 1  # 0: the table's creation
    added = [a["add"] for a in log_actions(warehouse, version) if "add" in a]
    assert len(added) == 3  # 21, 21, 8 rows: batches of 7 gathered past 20 rows
    counts = [json.loads(a["stats"])["numRecords"] for a in added]  # type: ignore[index]
    assert sorted(counts) == [8, 21, 21]
    folder = Path(warehouse.uri(NAME)) / f"{PARTITION}=a"
    for path in folder.glob("*.parquet"):
        meta = pq.ParquetFile(path).metadata
        assert meta.num_row_groups == 1
        assert PARTITION not in pq.ParquetFile(path).schema_arrow.names  # in the log only
    assert [r[0] for r in published(warehouse, "a")] == sorted(ids)


def test_an_odd_submission_id_is_escaped_as_delta_rs_escapes_it(
    warehouse: DeltaWarehouse,
) -> None:
    sid = "a b/c%d=é"
    warehouse.replace_submission(NAME, sid, rows(sid, ["p1", "p2"]), seq=1)
    folder = Path(warehouse.uri(NAME)) / "submission_id=a%20b%2Fc%25d%3D%C3%A9"
    assert len(list(folder.glob("*.parquet"))) == 1
    assert [r[0] for r in published(warehouse, sid)] == ["p1", "p2"]
    (added,) = [a["add"] for a in log_actions(warehouse, 1) if "add" in a]
    assert str(added["path"]).startswith("submission_id=a%2520b%252Fc%2525d%253D%25C3%25A9/")  # type: ignore[index]
    table = DeltaTable(warehouse.uri(NAME))
    assert table.to_pyarrow_table().column(PARTITION).to_pylist() == [sid, sid]
    warehouse.delete_rows(NAME, {sid: ["p1"]}, seq=2)  # delta-rs finds the file
    assert [r[0] for r in published(warehouse, sid)] == ["p2"]


def test_rows_of_another_submission_are_refused_and_nothing_is_committed(
    warehouse: DeltaWarehouse,
) -> None:
    warehouse.replace_submission(NAME, "a", rows("a", ["a1"]), seq=1)
    before = warehouse.version(NAME)
    with pytest.raises(PublishError, match="another submission"):
        warehouse.replace_submission(NAME, "a", rows("b", ["b1"]), seq=2)
    assert warehouse.version(NAME) == before
    assert published(warehouse, "a") == [("a1", "HP:0000000", 1)]


def test_a_table_published_before_a_column_was_added_gains_it(tmp_path: Path) -> None:
    warehouse = DeltaWarehouse(LocalFiles(tmp_path))
    older = pa.schema([f for f in schema(NAME) if f.name != "term_label"])
    DeltaTable.create(
        warehouse.uri(NAME), older, partition_by=[PARTITION], configuration=delta.CREATE
    )
    warehouse.replace_submission(NAME, "a", rows("a", ["a1"]), seq=1)
    table = DeltaTable(warehouse.uri(NAME))
    names = [f.name for f in table.schema().fields]
    assert "term_label" in names
    assert names[: len(older.names)] == older.names  # the table's own order kept
    assert table.transaction_version(APP_ID) == 1
    assert published(warehouse, "a") == [("a1", "HP:0000000", 1)]
