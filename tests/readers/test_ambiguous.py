"""Ambiguous input is rejected where it is: bad bytes, repeated sheet names and keys.

(Duplicate columns and repeated headers: test_csv.py and test_xlsx.py.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from harmonize.errors import ReadError
from harmonize.readers import ReadOptions, SourceBatch, reader_for
from harmonize.readers.base import Reader
from harmonize.readers.formats.xlsx import XLSXReader
from harmonize.readers.limits import Guard
from tests.support import bombs

from .conftest import read_all, rows_of


def error(path: Path, **options: object) -> ReadError:
    with pytest.raises(ReadError) as info:
        read_all(path, **options)
    return info.value


# ---------------------------------------------------------------------------- bytes


def test_invalid_utf8_is_an_error_at_its_cell(tmp_path: Path) -> None:
    """UTF-8 with one Latin-1 byte was read as Windows-1252: every 'ü' became 'Ã¼'."""
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"id,name,city\nP1,M\xc3\xbcller,Z\xc3\xbcrich\nP2,Ren\xe9e,Paris\n")
    err = error(path)
    assert "not valid UTF-8" in err.message
    assert (err.file, err.row, err.column, err.value) == ("mixed.csv", 3, "name", "Ren\\xe9e")
    assert "UTF-8" in (err.hint or "")


def test_invalid_utf8_late_in_a_large_file(tmp_path: Path) -> None:
    lines = [b"id,name"] + [b"P%d,M\xc3\xbcller" % i for i in range(30_000)] + [b"P-last,\xff"]
    path = tmp_path / "late.csv"
    path.write_bytes(b"\n".join(lines) + b"\n")
    err = error(path)
    assert (err.row, err.column) == (30_002, "name")


def test_invalid_utf8_with_the_encoding_named(tmp_path: Path) -> None:
    path = tmp_path / "named.csv"
    path.write_bytes(b"id,name\nP1,ok\nP2,\xff\n")
    err = error(path, encoding="utf-8")
    assert (err.row, err.column) == (3, "name")


def test_a_file_with_no_utf8_at_all_is_still_windows_1252(tmp_path: Path) -> None:
    path = tmp_path / "legacy.csv"
    path.write_bytes("id,name\nP1,Renée\n".encode("cp1252"))
    assert rows_of(read_all(path)) == [{"id": "P1", "name": "Renée"}]


def test_a_byte_windows_1252_does_not_define_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "undefined.csv"
    path.write_bytes(b"id,name\nP1,Ren\xe9e\nP2,x\x81y\n")
    with pytest.raises(ReadError, match="not valid"):
        read_all(path, encoding="cp1252")


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252", "utf-16"])
def test_nul_is_an_error_at_its_cell(tmp_path: Path, encoding: str) -> None:
    """pyarrow kept NULs inside values: ``x\\x00y`` went on into the tables."""
    path = tmp_path / f"nul-{encoding}.csv"
    path.write_bytes("id,name\nP1,Renée\nP2,x\x00y\n".encode(encoding))
    err = error(path)
    assert (err.row, err.column, err.value) == (3, "name", "x\\x00y")
    assert "NUL" in err.message


def test_nul_in_a_header(tmp_path: Path) -> None:
    path = tmp_path / "head.csv"
    path.write_bytes(b"id,na\x00me\nP1,x\n")
    err = error(path)
    assert (err.row, err.column) == (1, "column_2")


def test_nul_in_json_records(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(b'{"id": "P1", "name": "a"}\n{"id": "P2", "name": "x\\u0000y"}\n')
    err = error(path)
    assert (err.row, err.column) == (2, "name")


def _json_error(path: Path, reader: str) -> ReadError:
    with pytest.raises(ReadError) as info:
        list(reader_for(path, prefer=reader).read(path, ReadOptions()))
    return info.value


NUL_CASES = [  # (file, reader, bytes, (row, column))
    (
        "r.json",
        "json",
        b'[{"id": "P1"},\n {"id": "P2", "x": {"a\\u0000": 1}}]',
        (2, "x.a\\x00"),
    ),
    ("r.json", "json", b'[{"id": "P1"},\n {"id": "P2", "n": ["a", "b\x00"]}]', (2, "n[1]")),
    ("p.json", "phenopacket", b'{"id": "p", "subject": {"id": "s\x00"}}', (1, "subject.id")),
    ("p.jsonl", "phenopacket", b'{"id": "p"}\n{"id": "q\\u0000"}\n', (2, "id")),
    ("b.json", "beacon", b'{"individuals": [{"id": "I1"}, {"id": "I\x002"}]}', (2, "id")),
    ("b.json", "beacon", b'{"id": "I1",\n "sex": {"label": "f\\u0000"}}', (1, "sex.label")),
    (
        "f.ndjson",
        "fhir",
        b'{"resourceType": "Patient", "id": "p1"}\n{"resourceType": "Patient", "id": "p\\u0000"}\n',
        (2, "Patient.id"),
    ),
]


@pytest.mark.parametrize(("name", "reader", "data", "where"), NUL_CASES)
def test_nul_in_json_at_its_record_and_field(
    tmp_path: Path, name: str, reader: str, data: bytes, where: tuple[int, str]
) -> None:
    """``\\u0000`` and raw NULs went through into the documents, at any depth, keys too."""
    path = tmp_path / name
    path.write_bytes(data)
    err = _json_error(path, reader)
    assert (err.file, err.row, err.column) == (name, *where)
    offset = min(i for i in (data.find(b"\x00"), data.find(b"\\u0000")) if i >= 0)
    line = data.count(b"\n", 0, offset) + 1
    at = offset - data.rfind(b"\n", 0, offset)
    assert err.message == f"a NUL character is not text, at line {line}, column {at}"


def test_bad_bytes_between_json_tokens_are_at_their_line(tmp_path: Path) -> None:
    """No field holds them: the line and column still say where."""
    path = tmp_path / "b.json"
    path.write_bytes(b'[{"id": "I1"},\n {"id": "I2"} \xff]')
    err = _json_error(path, "beacon")
    assert "not valid UTF-8 at line 2, column 15 (byte 0xFF)" in err.message
    assert err.column is None
    path = tmp_path / "p.json"
    path.write_bytes(b'{"id": "p",\n \x00 "subject": {}}')
    err = _json_error(path, "phenopacket")
    assert err.message == "a NUL character is not text, at line 2, column 2"
    assert err.column is None


def test_bad_utf8_in_a_fhir_key(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    body = b'{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient", "n\xe4me": 1}}]}'
    path.write_bytes(body)
    err = _json_error(path, "fhir")
    assert (err.row, err.column, err.value) == (1, "Bundle.entry[0].resource.n\\xe4me", "n\\xe4me")
    assert "(byte 0xE4)" in err.message


# ---------------------------------------------------------------------------- sheets


def test_two_sheets_with_one_name_are_rejected(tmp_path: Path) -> None:
    """openpyxl quietly renamed the second 'Cases' to 'Cases1'; which one was meant?"""
    sheet = bombs.sheet_xml([["id"], ["P1"]])
    path = bombs.workbook_named(tmp_path / "two.xlsx", [("Cases", sheet), ("cases", sheet)])
    err = error(path)
    assert err.sheet == "Cases" and "2 sheets are named 'Cases'" in err.message
    with pytest.raises(ReadError, match="sheets are named"):
        list(XLSXReader().read(path, ReadOptions(sheet="cases")))


def test_a_repeated_name_on_another_sheet_does_not_matter(tmp_path: Path) -> None:
    sheet = bombs.sheet_xml([["id"], ["P1"]])
    path = bombs.workbook_named(
        tmp_path / "ok.xlsx", [("Cases", sheet), ("notes", sheet), ("Notes", sheet)]
    )
    assert rows_of(read_all(path)) == [{"id": "P1"}]
    assert rows_of(list(XLSXReader().read(path, ReadOptions(sheet="Cases")))) == [{"id": "P1"}]


# ---------------------------------------------------------------------------- JSON keys


def test_a_key_twice_in_one_record(tmp_path: Path) -> None:
    """orjson keeps the last of two equal keys: ``sex`` was silently ``M``."""
    path = tmp_path / "r.json"
    path.write_bytes(b'[{"id": "P1", "sex": "F"}, {"id": "P2", "sex": "F", "sex": "M"}]')
    err = error(path)
    assert (err.row, err.column) == (2, "sex") and "twice" in err.message


def test_a_key_twice_in_a_json_line(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(b'{"id": "P1"}\n\n{"id": "P2", "id": "P3"}\n')
    err = error(path)
    assert (err.row, err.column) == (3, "id")


def test_keys_that_differ_in_case_both_holding_values(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(b'{"id": "P1", "sex": "F"}\n{"id": "P2", "Sex": "M"}\n')
    err = error(path)
    assert "keys 'sex' and 'Sex'" in err.message and err.row == 2


# ---------------------------------------------------------------------------- batches


def test_a_header_that_changes_between_batches_is_rejected(tmp_path: Path) -> None:
    """Whatever a reader does, every batch of one file must carry the first one's header."""

    class Drifting(Reader):
        name = "drifting"
        extensions = (".drift",)

        def batches(self, path: Path, options: ReadOptions, guard: Guard) -> Iterator[SourceBatch]:
            for number, names in enumerate((["id", "sex"], ["id", "age"]), start=2):
                table = pa.table({name: ["x"] for name in names})
                yield SourceBatch(path.name, table, pa.array([number]), headers=[names])

    path = tmp_path / "f.drift"
    path.write_text("x")
    with pytest.raises(ReadError, match="header differs between batches") as info:
        list(Drifting().read(path, ReadOptions()))
    assert info.value.column == "sex"


def test_a_listed_sheet_whose_part_is_missing(tmp_path: Path) -> None:
    """Fuzzing found (in this branch's own code): a sheet the workbook lists but whose
    part is not in the zip passed the name check, then openpyxl raised KeyError."""
    import zipfile

    sheet = bombs.sheet_xml([["id"], ["P1"]])
    full = bombs.workbook_named(tmp_path / "full.xlsx", [("a", sheet), ("S", sheet)])
    with zipfile.ZipFile(full) as archive:
        members = {
            info.filename: archive.read(info)
            for info in archive.infolist()
            if info.filename != "xl/worksheets/sheet2.xml"
        }
    path = bombs.write_zip(tmp_path / "missing.xlsx", members)  # type: ignore[arg-type]
    with pytest.raises(ReadError, match="not a worksheet") as info:
        list(XLSXReader().read(path, ReadOptions(sheet="S")))
    assert info.value.sheet == "S"
    assert rows_of(list(XLSXReader().read(path, ReadOptions(sheet="a")))) == [{"id": "P1"}]
