"""XLSX reader: values as text, headers, row numbers, batching, sheets and damaged files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pyarrow as pa
import pytest

from harmonize.errors import ReadError
from harmonize.readers import ReadOptions, reader_for
from harmonize.readers.formats.xlsx import DAMAGED_HINT, XLSXReader

from .conftest import AIRE_XLSX, numbers_of, read_all, rows_of


def workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def test_values_become_text(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "cases.xlsx",
        {
            "cases": [
                ["id", "age", "weight", "born", "seen", "alive", "note"],
                ["P1", 3, 3.0, dt.date(2020, 1, 2), dt.datetime(2024, 5, 6, 7, 8), True, "ok"],
                ["P2", 12.5, None, dt.datetime(2019, 3, 4), None, False, ""],
            ]
        },
    )
    batches = read_all(path)
    assert isinstance(reader_for(path), XLSXReader)
    assert rows_of(batches) == [
        {
            "id": "P1",
            "age": "3",
            "weight": "3",
            "born": "2020-01-02",
            "seen": "2024-05-06T07:08:00",
            "alive": "TRUE",
            "note": "ok",
        },
        {
            "id": "P2",
            "age": "12.5",
            "weight": None,
            "born": "2019-03-04",
            "seen": None,
            "alive": "FALSE",
            "note": None,
        },
    ]
    assert numbers_of(batches) == [2, 3]
    assert batches[0].sheet == "cases"
    assert batches[0].file == "cases.xlsx"
    assert all(field.type == pa.string() for field in batches[0].table.schema)


def test_trailing_empty_rows_and_columns_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "padded.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "sex", None, None])
    sheet.append(["P1", "M"])
    sheet.append([])
    sheet.append(["P2", None])
    sheet["F40"] = None  # touches the sheet's dimensions without a value
    sheet["A30"].number_format = "0.00"  # a formatted but empty cell
    book.save(path)
    batches = read_all(path)
    assert batches[0].table.column_names == ["id", "sex"]
    assert batches[0].headers == [["id", "sex"]]
    assert rows_of(batches) == [{"id": "P1", "sex": "M"}, {"id": "P2", "sex": None}]
    assert numbers_of(batches) == [2, 4]  # the blank row 3 is skipped, not renumbered


def test_duplicate_and_blank_headers(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "dup.xlsx", {"s": [["id", "HP", None, "HP", 2020], [1, 2, 3, None, 5]]}
    )
    batch = read_all(path)[0]
    assert batch.table.column_names == ["id", "HP", "column_3", "HP#2", "2020"]
    assert batch.headers == [["id", "HP", None, "HP", "2020"]]


def test_duplicate_columns_holding_values_are_rejected(tmp_path: Path) -> None:
    path = workbook(tmp_path / "dup.xlsx", {"s": [["id", "HP", None, "HP"], [1, 2, 3, 4]]})
    with pytest.raises(ReadError, match="columns B \\('HP'\\) and D \\('HP'\\)") as info:
        read_all(path)
    assert (info.value.sheet, info.value.row, info.value.column) == ("s", 2, "HP")


def test_a_header_repeated_below_is_rejected(tmp_path: Path) -> None:
    rows: list[list[object]] = [["id", "sex"], ["P1", "F"], [], ["id", "sex"], ["P2", "M"]]
    with pytest.raises(ReadError, match="row 4 repeats the header") as info:
        read_all(workbook(tmp_path / "two.xlsx", {"s": rows}))
    assert info.value.sheet == "s"


def test_batching(tmp_path: Path) -> None:
    rows: list[list[object]] = [["id", "n"], ["label", "count"]]
    rows += [[f"P{i}", i] for i in range(1, 6)]
    batches = read_all(workbook(tmp_path / "five.xlsx", {"s": rows}), header_rows=2, batch_size=2)
    assert [batch.rows.to_pylist() for batch in batches] == [[3, 4], [5, 6], [7]]
    assert [row["n"] for row in rows_of(batches)] == ["1", "2", "3", "4", "5"]
    assert all(batch.headers == [["id", "n"], ["label", "count"]] for batch in batches)


def test_chosen_sheet_and_unknown_sheet(tmp_path: Path) -> None:
    path = workbook(tmp_path / "two.xlsx", {"first": [["a"], [1]], "second": [["b"], [2]]})
    assert rows_of(read_all(path)) == [{"a": "1"}]
    batches = list(XLSXReader().read(path, ReadOptions(sheet="second")))
    assert rows_of(batches) == [{"b": "2"}]
    assert batches[0].sheet == "second"
    with pytest.raises(ReadError, match="no sheet named 'third'") as info:
        list(XLSXReader().read(path, ReadOptions(sheet="third")))
    assert "first" in (info.value.hint or "") and "second" in (info.value.hint or "")


def test_value_outside_the_header_is_a_read_error(tmp_path: Path) -> None:
    path = workbook(tmp_path / "stray.xlsx", {"s": [["id", "sex"], ["P1", "M"], ["P2", "F", "x"]]})
    with pytest.raises(ReadError) as info:
        read_all(path)
    assert (info.value.row, info.value.column, info.value.sheet) == (3, "C", "s")


def test_empty_sheet(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="file is empty"):
        read_all(workbook(tmp_path / "empty.xlsx", {"s": []}))


def test_header_only_sheet(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="no data rows") as info:
        read_all(workbook(tmp_path / "header.xlsx", {"s": [["id", "sex"], [None, None]]}))
    assert info.value.hint


def test_blank_header_row(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="header row is empty"):
        read_all(workbook(tmp_path / "gap.xlsx", {"s": [[None], ["id"], ["P1"]]}))


def test_real_spreadsheet_with_two_header_rows() -> None:
    batches = read_all(AIRE_XLSX, header_rows=2)
    rows = rows_of(batches)
    assert len(rows) >= 58
    headers = batches[0].headers
    assert len(headers) == 2
    assert "HP:0001596" in headers[1]
    assert len(headers[0]) == len(headers[1]) == batches[0].table.num_columns
    assert numbers_of(batches)[:2] == [3, 4]
    assert rows[0]["PMID"] == "PMID:16965330"
    assert rows[0]["individual_id"] == "patient 1"
    # the sheet repeats a column name; the table keeps both columns apart
    assert "Primary adrenal insufficiency#2" in batches[0].table.column_names


def test_real_spreadsheet_in_small_batches() -> None:
    batches = read_all(AIRE_XLSX, header_rows=2, batch_size=10)
    assert all(batch.num_rows == 10 for batch in batches[:-1])
    numbers = numbers_of(batches)
    assert numbers == sorted(numbers) and len(numbers) == len(set(numbers)) >= 58


@pytest.mark.parametrize("fraction", [0.5, 0.9])
def test_truncated_workbook_is_a_read_error(tmp_path: Path, fraction: float) -> None:
    data = AIRE_XLSX.read_bytes()
    path = tmp_path / "truncated.xlsx"
    path.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(ReadError) as info:
        read_all(path, header_rows=2)
    assert info.value.hint == DAMAGED_HINT
    assert info.value.file == "truncated.xlsx"


def test_corrupt_sheet_data_is_a_read_error(tmp_path: Path) -> None:
    # keep the zip directory intact but break the compressed sheet XML
    data = bytearray(AIRE_XLSX.read_bytes())
    start = data.find(b"xl/worksheets/sheet1.xml") + 200
    data[start : start + 400] = bytes(400)
    path = tmp_path / "corrupt.xlsx"
    path.write_bytes(bytes(data))
    with pytest.raises(ReadError) as info:
        read_all(path, header_rows=2)
    assert info.value.hint == DAMAGED_HINT


def test_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_text("id,sex\nP1,M\n")
    with pytest.raises(ReadError, match="cannot open the workbook") as info:
        read_all(path)
    assert info.value.hint == DAMAGED_HINT


def test_xml_declaring_an_unknown_encoding_is_damage(tmp_path: Path) -> None:
    """Fuzzing found: ``<?xml encoding="TF-8"?>`` in a sheet raised LookupError from expat."""
    from tests.support import bombs

    sheet = b'<?xml version="1.0" encoding="TF-8"?><worksheet/>'
    path = bombs.workbook(tmp_path / "enc.xlsx", {"s": sheet})
    with pytest.raises(ReadError) as info:
        read_all(path)
    assert info.value.hint == DAMAGED_HINT
