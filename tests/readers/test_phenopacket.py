"""Phenopacket reader: single files, JSON Lines and directories of real phenopackets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harmonize.errors import ReadError
from harmonize.readers import ReadOptions, reader_for, readers
from harmonize.readers.formats.phenopacket import PhenopacketReader

from .conftest import DATA, numbers_of, read_all

PHENOPACKETS = DATA / "phenopackets"


def documents(batches: list) -> list[dict]:  # type: ignore[type-arg]
    return [
        json.loads(doc) for batch in batches for doc in batch.table.column("document").to_pylist()
    ]


def test_registered_before_the_generic_json_reader() -> None:
    names = list(readers())
    assert names.index("phenopacket") < names.index("json")


@pytest.mark.parametrize("path", [DATA / "covid19.json", *sorted(PHENOPACKETS.glob("*.json"))])
def test_reader_for_picks_phenopackets(path: Path) -> None:
    assert isinstance(reader_for(path), PhenopacketReader)


def test_single_file() -> None:
    path = DATA / "covid19.json"
    batches = read_all(path)
    assert len(batches) == 1
    batch = batches[0]
    assert batch.table.column_names == ["document"]
    assert numbers_of(batches) == [1]
    assert batch.file == "covid19.json"
    assert documents(batches) == [json.loads(path.read_text())]


def test_directory() -> None:
    files = sorted(path.name for path in PHENOPACKETS.glob("*.json"))
    assert PhenopacketReader.can_read(PHENOPACKETS, b"")
    batches = list(
        PhenopacketReader().read(PHENOPACKETS, ReadOptions(label="cohort", batch_size=2))
    )
    assert [batch.num_rows for batch in batches] == [2, 1]
    assert all(batch.file == "cohort" for batch in batches)
    assert all(batch.table.column_names == ["document", "document_file"] for batch in batches)
    assert [
        f for batch in batches for f in batch.table.column("document_file").to_pylist()
    ] == files
    assert numbers_of(batches) == [1, 1, 1]
    loaded = documents(batches)
    assert [doc["id"] for doc in loaded] == [
        json.loads((PHENOPACKETS / name).read_text())["id"] for name in files
    ]
    assert all("phenotypicFeatures" in doc for doc in loaded)


def test_directory_recurses_and_skips_hidden(tmp_path: Path) -> None:
    (tmp_path / "site-a").mkdir()
    (tmp_path / ".cache").mkdir()
    source = sorted(PHENOPACKETS.glob("*.json"))
    (tmp_path / "site-a" / "p1.json").write_bytes(source[0].read_bytes())
    (tmp_path / "p2.json").write_bytes(source[1].read_bytes())
    (tmp_path / ".cache" / "p3.json").write_bytes(source[2].read_bytes())
    (tmp_path / "notes.txt").write_text("not a phenopacket")
    batches = list(PhenopacketReader().read(tmp_path, ReadOptions()))
    assert batches[0].table.column("document_file").to_pylist() == ["p2.json", "site-a/p1.json"]
    assert batches[0].file == tmp_path.name


def test_empty_directory(tmp_path: Path) -> None:
    assert not PhenopacketReader.can_read(tmp_path, b"")
    with pytest.raises(ReadError, match="no phenopacket files"):
        list(PhenopacketReader().read(tmp_path, ReadOptions()))


def test_bad_file_in_directory_names_it(tmp_path: Path) -> None:
    (tmp_path / "good.json").write_bytes((DATA / "covid19.json").read_bytes())
    (tmp_path / "bad.json").write_text('{"id": "x",\n "subject": }\n')
    with pytest.raises(ReadError) as info:
        list(PhenopacketReader().read(tmp_path, ReadOptions(label="upload")))
    assert (info.value.file, info.value.row) == ("upload/bad.json", 2)


def test_json_lines(tmp_path: Path) -> None:
    source = sorted(PHENOPACKETS.glob("*.json"))
    lines = [json.dumps(json.loads(path.read_text())) for path in source]
    path = tmp_path / "cohort.jsonl"
    path.write_text(lines[0] + "\n\n" + "\n".join(lines[1:]) + "\n")
    assert isinstance(reader_for(path), PhenopacketReader)
    batches = read_all(path, batch_size=2)
    assert [batch.rows.to_pylist() for batch in batches] == [[1, 3], [4]]
    assert [doc["id"] for doc in documents(batches)] == [json.loads(line)["id"] for line in lines]


def test_json_lines_error_names_the_line(tmp_path: Path) -> None:
    good = json.dumps(json.loads((DATA / "covid19.json").read_text()))
    path = tmp_path / "cohort.jsonl"
    path.write_text(good + "\n" + good[:-10] + "\n")
    with pytest.raises(ReadError, match="line 2") as info:
        read_all(path)
    assert info.value.row == 2


def test_array_of_phenopackets(tmp_path: Path) -> None:
    source = sorted(PHENOPACKETS.glob("*.json"))
    path = tmp_path / "all.json"
    path.write_text(json.dumps([json.loads(p.read_text()) for p in source], indent=2))
    batches = read_all(path, batch_size=2)
    assert isinstance(reader_for(path), PhenopacketReader)
    assert numbers_of(batches) == [1, 2, 3]


def test_not_an_object(tmp_path: Path) -> None:
    path = tmp_path / "odd.json"
    path.write_text('"metaData"')
    with pytest.raises(ReadError, match="expected a JSON object"):
        list(PhenopacketReader().read(path, ReadOptions()))


def test_a_directory_without_phenopackets_is_a_read_error(tmp_path: Path) -> None:
    """Fuzzing found: reader_for opened the directory to sniff it (IsADirectoryError; main
    fixed that too, meanwhile). Now it also says what a directory must hold."""
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / ".hidden.json").write_text("{}")
    (folder / "notes.txt").write_text("x")
    with pytest.raises(ReadError, match="no Phenopacket files") as info:
        reader_for(folder)
    assert info.value.file == "d"
