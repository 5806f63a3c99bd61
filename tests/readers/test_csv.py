"""CSV/TSV reader: detection, headers, row numbers, batching and bad input."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from harmonize.errors import ReadError
from harmonize.readers import ReadOptions
from harmonize.readers.encoding import detect
from harmonize.readers.formats import csv as csv_format
from harmonize.readers.formats.csv import CSVReader
from harmonize.readers.limits import Guard
from harmonize.settings import Limits

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
    assert detect(path, Guard(Limits(), path.name)).encoding == "cp1252"
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


def test_an_empty_duplicate_column_is_kept_apart(tmp_path: Path) -> None:
    """A repeated header nobody filled in is harmless: kept with a suffix."""
    path = write(tmp_path / "dup.csv", "id,HP,HP,,HP#2,HP\n1,a,,c,d,\n")
    batch = read_all(path)[0]
    assert batch.table.column_names == ["id", "HP", "HP#3", "column_4", "HP#2", "HP#4"]
    assert batch.headers == [["id", "HP", "HP", None, "HP#2", "HP"]]
    assert batch.table.to_pylist()[0]["HP"] == "a"


def test_duplicate_columns_holding_values_are_rejected(tmp_path: Path) -> None:
    """Two columns named ``sex`` were read as ``sex`` and ``sex#2``; a mapping took one."""
    path = write(tmp_path / "dup.csv", "id,sex,age,sex\nP1,F,3,\nP2,M,4,F\n")
    with pytest.raises(ReadError, match="columns B \\('sex'\\) and D \\('sex'\\)") as info:
        read_all(path)
    assert (info.value.file, info.value.row, info.value.column) == ("dup.csv", 3, "sex")
    assert info.value.hint


def test_duplicates_ignore_case_and_spaces(tmp_path: Path) -> None:
    path = write(tmp_path / "dup.csv", "id,Sex, sex \nP1,F,M\n")
    with pytest.raises(ReadError, match="same header"):
        read_all(path)


def test_duplicates_found_in_a_later_batch(tmp_path: Path) -> None:
    """The second column gets its first value only after the first batch went out."""
    lines = ["id,sex,sex"] + [f"P{i},F," for i in range(5)] + ["P9,,M"]
    path = write(tmp_path / "late.csv", "\n".join(lines) + "\n")
    with pytest.raises(ReadError, match="same header") as info:
        read_all(path, batch_size=2)
    assert info.value.row == 7


def test_a_header_repeated_inside_the_data_is_rejected(tmp_path: Path) -> None:
    """Two exports joined with ``cat``: the second header would become an individual."""
    text = "id,sex,age\nP1,F,3\nid,sex,age\nP2,M,4\n"
    with pytest.raises(ReadError, match="row 3 repeats the header") as info:
        read_all(write(tmp_path / "joined.csv", text))
    assert info.value.row == 3


def test_a_different_header_inside_the_data_is_rejected(tmp_path: Path) -> None:
    """The second part's columns are in another order: its rows would be misread."""
    text = "id,sex,age\nP1,F,3\nid,age,sex\nP2,4,M\n"
    with pytest.raises(ReadError, match="differs from the file's") as info:
        read_all(write(tmp_path / "joined.csv", text))
    assert (info.value.row, info.value.column) == (3, "sex")


def test_a_value_that_happens_to_be_a_header_name_is_data(tmp_path: Path) -> None:
    text = "id,note,age\nid,,3\nP2,age,4\n"
    assert len(rows_of(read_all(write(tmp_path / "ok.csv", text)))) == 2


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
        "Seizure#2": None,  # the repeated column is empty: kept apart, not ambiguous
    }


def test_same_names_with_different_ids_are_still_duplicates(tmp_path: Path) -> None:
    """Profiles look columns up by their first header row: ``Seizure`` names two columns."""
    text = "id\tSeizure\tSeizure\nstr\tHP:0001250\tHP:0007359\nP1\tobserved\texcluded\n"
    with pytest.raises(ReadError, match="same header") as info:
        read_all(write(tmp_path / "t.tsv", text), header_rows=2)
    assert (info.value.row, info.value.column) == (3, "Seizure")


def test_utf16_named_for_a_file_without_a_byte_order_mark(tmp_path: Path) -> None:
    """Fuzzing found: pyarrow's UTF-16 transcoder raised UnicodeError, not a ReadError."""
    path = tmp_path / "x.csv"
    path.write_bytes(b"\x00\x00\x00\x00\x00")
    with pytest.raises(ReadError, match="not valid utf-16") as info:
        list(CSVReader().read(path, ReadOptions(encoding="utf-16")))
    assert info.value.file == "x.csv"


@pytest.mark.timeout(60)  # a hang guard, not a timing: csv.Sniffer took minutes here
@pytest.mark.parametrize("unit", [b'",', b', "'])
def test_delimiter_detection_is_linear(tmp_path: Path, unit: bytes) -> None:
    """64 KiB of ``","`` kept csv.Sniffer's regular expressions busy for ~100 s per file."""
    path = tmp_path / "quotes.csv"
    path.write_bytes(unit * (csv_format.HEAD_BYTES // len(unit)))
    with pytest.raises(ReadError):
        read_all(path)
