"""CSV/TSV reader: detection, headers, row numbers, batching and bad input."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from harmonize.errors import ConfigurationError, ReadError
from harmonize.readers import ReadOptions, reader_for
from harmonize.readers.formats import csv as csv_format
from harmonize.readers.formats.csv import CSVReader, TSVReader, detect_encoding

from .conftest import DATA, numbers_of, read_all, rows_of

NAMES = ["José Müller", "Françoise Dupré", "Søren Ærø", "Zoë \u201cZee\u201d O\u2019Neill"]


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("comma.csv", "id,name,age\nP1,Ann,3\nP2,Bob,\n"),
        ("semicolon.csv", "id;name;age\nP1;Ann;3\nP2;Bob;\n"),
        ("tab.tsv", "id\tname\tage\nP1\tAnn\t3\nP2\tBob\t\n"),
        ("tab_as.csv", "id\tname\tage\nP1\tAnn\t3\nP2\tBob\t\n"),
        ("pipe.txt", "id|name|age\nP1|Ann|3\nP2|Bob|\n"),
    ],
)
def test_delimiter_is_detected(tmp_path: Path, name: str, text: str) -> None:
    batches = read_all(write(tmp_path / name, text))
    assert rows_of(batches) == [
        {"id": "P1", "name": "Ann", "age": "3"},
        {"id": "P2", "name": "Bob", "age": None},  # empty cells are null
    ]
    assert numbers_of(batches) == [2, 3]
    assert batches[0].headers == [["id", "name", "age"]]
    assert batches[0].file == name


def test_semicolon_with_decimal_commas_and_quotes() -> None:
    rows = rows_of(read_all(DATA / "labs_semicolon.csv"))
    assert [row["value"] for row in rows] == ["13,5", "2,1", "1,2"]
    assert rows[2]["test"] == "PTH; intact"


def test_single_column_falls_back_by_extension(tmp_path: Path) -> None:
    rows = rows_of(read_all(write(tmp_path / "ids.tsv", "id\nP1\nP2\n")))
    assert rows == [{"id": "P1"}, {"id": "P2"}]


def test_explicit_delimiter_and_encoding_win(tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", "a;b;c,d\n1;2;3,é\n4;5;6,7\n", "cp1252")
    options = ReadOptions(delimiter=",", encoding="latin-1")
    rows = rows_of(list(CSVReader().read(path, options)))
    assert rows == [{"a;b;c": "1;2;3", "d": "é"}, {"a;b;c": "4;5;6", "d": "7"}]


def test_values_are_never_coerced(tmp_path: Path) -> None:
    text = "id,zip,flag,missing,score\n007,01234,TRUE,NA,1.50\n"
    rows = rows_of(read_all(write(tmp_path / "raw.csv", text)))
    assert rows == [{"id": "007", "zip": "01234", "flag": "TRUE", "missing": "NA", "score": "1.50"}]
    batch = read_all(tmp_path / "raw.csv")[0]
    assert all(field.type == pa.string() for field in batch.table.schema)
    assert batch.rows.type == pa.int64()


def test_utf8_with_bom() -> None:
    batches = read_all(DATA / "people_utf8_bom.csv")
    assert batches[0].table.column_names == ["participant_id", "name", "city", "sex"]
    assert batches[0].headers[0][0] == "participant_id"
    assert [row["name"] for row in rows_of(batches)] == NAMES


def test_cp1252_is_detected_and_transcoded() -> None:
    path = DATA / "people_cp1252.csv"
    assert detect_encoding(path, path.name) == "cp1252"
    rows = rows_of(read_all(path))
    assert [row["name"] for row in rows] == NAMES
    assert rows[0]["city"] == "Zürich"


def test_latin1_accents_read_correctly(tmp_path: Path) -> None:
    path = write(tmp_path / "l1.csv", "id,name\nP1,Renée\nP2,Çağla\n".replace("ğ", "g"), "latin-1")
    assert [row["name"] for row in rows_of(read_all(path))] == ["Renée", "Çagla"]


def test_utf16_export_from_excel(tmp_path: Path) -> None:
    path = write(tmp_path / "unicode.txt", "id\tname\nP1\tJosé\n", "utf-16")
    assert rows_of(read_all(path)) == [{"id": "P1", "name": "José"}]


def test_non_utf8_byte_late_in_file_is_found(tmp_path: Path) -> None:
    lines = ["id,name"] + [f"P{i},plain" for i in range(20_000)] + ["P-last,Müller"]
    path = write(tmp_path / "late.csv", "\n".join(lines) + "\n", "cp1252")
    assert path.stat().st_size > csv_format.HEAD_BYTES
    rows = rows_of(read_all(path))
    assert rows[-1] == {"id": "P-last", "name": "Müller"}


def test_wrong_explicit_encoding_is_a_read_error(tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", "id,name\nP1,Müller\n", "cp1252")
    with pytest.raises(ReadError, match="not valid") as info:
        list(CSVReader().read(path, ReadOptions(encoding="utf-8")))
    assert info.value.file == "x.csv"
    assert info.value.hint


def test_duplicate_headers_get_suffixes(tmp_path: Path) -> None:
    path = write(tmp_path / "dup.csv", "id,HP,HP,,HP#2,HP\n1,a,b,c,d,e\n")
    batch = read_all(path)[0]
    assert batch.table.column_names == ["id", "HP", "HP#3", "column_4", "HP#2", "HP#4"]
    assert batch.headers == [["id", "HP", "HP", None, "HP#2", "HP"]]
    assert batch.table.to_pylist()[0]["HP#3"] == "b"


def test_two_header_rows_and_row_numbers() -> None:
    batches = read_all(DATA / "two_header_rows.tsv", header_rows=2)
    batch = batches[0]
    assert batch.table.column_names == ["participant_id", "sex", "Seizure", "Seizure#2"]
    assert batch.headers == [
        ["participant_id", "sex", "Seizure", "Seizure"],
        ["str", "str", "HP:0001250", "HP:0001250"],
    ]
    assert numbers_of(batches) == [3, 4]
    assert rows_of(batches)[0] == {
        "participant_id": "P001",
        "sex": "M",
        "Seizure": "observed",
        "Seizure#2": None,
    }


def test_no_header_rows(tmp_path: Path) -> None:
    batches = read_all(write(tmp_path / "bare.csv", "P1,M\nP2,F\n"), header_rows=0)
    assert batches[0].table.column_names == ["column_1", "column_2"]
    assert batches[0].headers == []
    assert numbers_of(batches) == [1, 2]


def test_batching_keeps_row_numbers(tmp_path: Path) -> None:
    path = write(tmp_path / "five.csv", "id\n" + "".join(f"P{i}\n" for i in range(1, 6)))
    batches = read_all(path, batch_size=2)
    assert [batch.num_rows for batch in batches] == [2, 2, 1]
    assert [batch.rows.to_pylist() for batch in batches] == [[2, 3], [4, 5], [6]]
    assert [row["id"] for row in rows_of(batches)] == ["P1", "P2", "P3", "P4", "P5"]
    assert all(batch.headers == [["id"]] for batch in batches)


def test_batches_regroup_across_parse_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csv_format, "BLOCK_SIZE", 256)  # many tiny pyarrow blocks
    lines = "".join(f"P{i},{i % 7},note {i}\n" for i in range(1, 1001))
    path = write(tmp_path / "many.csv", "id,n,note\nlabel,,\n" + lines)
    batches = read_all(path, header_rows=2, batch_size=300)
    assert [batch.num_rows for batch in batches] == [300, 300, 300, 100]
    assert numbers_of(batches) == list(range(3, 1003))
    assert rows_of(batches)[-1] == {"id": "P1000", "n": "6", "note": "note 1000"}


def test_blank_lines_are_dropped_but_counted(tmp_path: Path) -> None:
    path = write(tmp_path / "gaps.csv", 'id,note\r\nP1,"two\r\nlines"\r\n\r\n  \r\nP2,x\r\n,\r\n')
    batches = read_all(path)
    assert rows_of(batches) == [{"id": "P1", "note": "two\r\nlines"}, {"id": "P2", "note": "x"}]
    # a quoted line break stays in one row, as a spreadsheet shows it
    assert numbers_of(batches) == [2, 5]


def test_ragged_row_is_a_read_error(tmp_path: Path) -> None:
    path = write(tmp_path / "ragged.csv", "id,name,age\nP1,Ann,3\nP2,Bob\nP3,Cy,4\n")
    with pytest.raises(ReadError) as info:
        read_all(path)
    err = info.value
    assert (err.file, err.row) == ("ragged.csv", 3)
    assert "2 fields" in err.message and "3" in err.message
    assert err.hint


def test_too_many_fields_is_a_read_error(tmp_path: Path) -> None:
    path = write(tmp_path / "wide.csv", "id,name\nP1,Smith, John\n")
    with pytest.raises(ReadError, match="3 fields") as info:
        read_all(path)
    assert info.value.row == 2


def test_ragged_row_in_a_later_block(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_format, "BLOCK_SIZE", 128)
    lines = "".join(f"P{i},x\n" for i in range(1, 200)) + "P200\n"
    with pytest.raises(ReadError) as info:
        read_all(write(tmp_path / "late.csv", "id,v\n" + lines), batch_size=10)
    assert info.value.row == 201


@pytest.mark.parametrize("text", ["", "\n\n", "\ufeff", "  \r\n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    with pytest.raises(ReadError, match="file is empty") as info:
        read_all(write(tmp_path / "empty.csv", text))
    assert info.value.file == "empty.csv"
    assert info.value.hint


def test_header_only_file(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="no data rows") as info:
        read_all(write(tmp_path / "header.csv", "id,name\n"))
    assert info.value.hint


def test_fewer_rows_than_header_rows(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="no data rows"):
        read_all(write(tmp_path / "short.tsv", "id\tname\n"), header_rows=2)


def test_label_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", "id\nP1\n")
    batch = next(TSVReader().read(path, ReadOptions(label="site-a/cases.csv")))
    assert batch.file == "site-a/cases.csv"


def test_bad_options(tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", "id\nP1\n")
    with pytest.raises(ConfigurationError):
        list(CSVReader().read(path, ReadOptions(batch_size=0)))
    with pytest.raises(ConfigurationError):
        list(CSVReader().read(path, ReadOptions(encoding="no-such-codec")))


def test_reader_for_picks_csv_and_tsv(tmp_path: Path) -> None:
    assert isinstance(reader_for(write(tmp_path / "a.csv", "a\n1\n")), CSVReader)
    assert isinstance(reader_for(write(tmp_path / "a.tsv", "a\n1\n")), TSVReader)


def test_large_file_streams_in_bounded_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csv_format, "BLOCK_SIZE", 64 * 1024)
    path = tmp_path / "large.csv"
    with path.open("w") as fh:
        fh.write("id,sex,age,hpo,note\n")
        for i in range(300_000):
            fh.write(f'P{i},F,{i % 90},HP:{i % 9999:07d},"note, {i}"\n')
    size = path.stat().st_size
    baseline = pa.total_allocated_bytes()
    peak = total = 0
    for batch in CSVReader().read(path, ReadOptions(batch_size=5_000)):  # not kept
        peak = max(peak, pa.total_allocated_bytes() - baseline)
        total += batch.num_rows
        last = batch.rows[-1].as_py()
    assert (total, last) == (300_000, 300_001)
    assert peak < size / 2, f"{peak} bytes of Arrow memory for a {size}-byte file"
