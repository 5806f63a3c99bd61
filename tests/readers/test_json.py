"""JSON and JSON Lines reader for flat records."""

from __future__ import annotations

from pathlib import Path

import pytest

from harmonize.errors import ReadError
from harmonize.readers import reader_for
from harmonize.readers.formats.json import JSONReader

from .conftest import DATA, numbers_of, read_all, rows_of


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_array_of_objects(tmp_path: Path) -> None:
    path = write(
        tmp_path / "cases.json",
        '[{"id": "P1", "age": 3, "alive": true, "hpo": ["HP:1", "HP:2"], "note": ""},\n'
        ' {"id": "P2", "weight": 2.5, "extra": {"a": null}}]',
    )
    batches = read_all(path)
    assert isinstance(reader_for(path), JSONReader)
    assert batches[0].table.column_names == ["id", "age", "alive", "hpo", "note", "weight", "extra"]
    assert batches[0].headers == [["id", "age", "alive", "hpo", "note", "weight", "extra"]]
    assert rows_of(batches) == [
        {
            "id": "P1",
            "age": "3",
            "alive": "true",
            "hpo": '["HP:1","HP:2"]',
            "note": None,
            "weight": None,
            "extra": None,
        },
        {
            "id": "P2",
            "age": None,
            "alive": None,
            "hpo": None,
            "note": None,
            "weight": "2.5",
            "extra": '{"a":null}',
        },
    ]
    assert numbers_of(batches) == [1, 2]


def test_single_object_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_bytes(b'\xef\xbb\xbf{"id": "P1", "sex": "F"}')
    batches = read_all(path)
    assert rows_of(batches) == [{"id": "P1", "sex": "F"}]
    assert numbers_of(batches) == [1]


def test_array_batches(tmp_path: Path) -> None:
    path = write(tmp_path / "five.json", str([{"n": i} for i in range(5)]).replace("'", '"'))
    batches = read_all(path, batch_size=2)
    assert [batch.rows.to_pylist() for batch in batches] == [[1, 2], [3, 4], [5]]
    assert [row["n"] for row in rows_of(batches)] == ["0", "1", "2", "3", "4"]


@pytest.mark.parametrize("suffix", [".jsonl", ".ndjson"])
def test_json_lines(tmp_path: Path, suffix: str) -> None:
    path = write(
        tmp_path / f"cases{suffix}", '{"id": "P1"}\n\n{"id": "P2", "sex": "M"}\n{"id": "P3"}\n'
    )
    batches = read_all(path, batch_size=2)
    assert isinstance(reader_for(path), JSONReader)
    # every batch has every column, even those first seen in a later batch
    assert all(batch.table.column_names == ["id", "sex"] for batch in batches)
    assert [batch.rows.to_pylist() for batch in batches] == [[1, 3], [4]]
    assert rows_of(batches)[1] == {"id": "P2", "sex": "M"}


def test_invalid_json_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.json", '[\n  {"id": "P1"},\n  {"id": "P2",}\n]\n')
    with pytest.raises(ReadError, match="line 3") as info:
        read_all(path)
    assert (info.value.file, info.value.row) == ("bad.json", 3)
    assert info.value.hint


def test_invalid_json_line(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.jsonl", '{"id": "P1"}\n{"id": "P2"\n{"id": "P3"}\n')
    with pytest.raises(ReadError, match="line 2") as info:
        read_all(path)
    assert info.value.row == 2


def test_records_must_be_objects(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="expected a JSON object") as info:
        read_all(write(tmp_path / "mixed.json", '[{"id": "P1"}, 5]'))
    assert info.value.row == 2
    with pytest.raises(ReadError, match="expected a JSON object"):
        read_all(write(tmp_path / "scalar.json", '"hello"'))


@pytest.mark.parametrize(("name", "text"), [("e.json", "  \n"), ("e.jsonl", "\n\n")])
def test_empty_file(tmp_path: Path, name: str, text: str) -> None:
    with pytest.raises(ReadError, match="file is empty"):
        read_all(write(tmp_path / name, text))


def test_empty_array(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="no data rows"):
        read_all(write(tmp_path / "none.json", "[]"))


def test_does_not_claim_phenopackets() -> None:
    path = DATA / "covid19.json"
    head = path.read_bytes()[:4096]
    assert not JSONReader.can_read(path, head)
    assert JSONReader.can_read(Path("flat.json"), b'[{"id": "P1", "subject": "S1"}]')
