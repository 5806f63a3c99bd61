"""Every reader is bounded: each limit of ``Settings.limits`` refuses what is over it.

The hostile workbooks are built here (tests/support/bombs.py): a few megabytes on disk that
inflate to gigabytes. Each is refused from the zip directory, before openpyxl reads a byte.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import orjson
import pytest

from harmonize.errors import LimitExceeded, ReadError
from harmonize.readers import ReadOptions, SourceBatch, reader_for
from harmonize.readers.archive import BoundedArchive, member_count
from harmonize.readers.formats.phenopacket import PhenopacketReader
from harmonize.readers.limits import Guard
from harmonize.settings import Limits
from tests.support import bombs

from .conftest import DATA, rows_of


def read(path: Path, **limits: float) -> list[SourceBatch]:
    options = ReadOptions(limits=Limits(**limits))  # type: ignore[arg-type]
    return list(reader_for(path).read(path, options))


def refused(path: Path, limit: str, **limits: float) -> LimitExceeded:
    with pytest.raises(LimitExceeded) as info:
        read(path, **limits)
    assert info.value.limit == limit
    assert f"limits.{limit}" in info.value.message
    assert info.value.file == path.name
    assert f"HARMONIZE_LIMIT_{limit.upper()}" in (info.value.hint or "")
    return info.value


# ---------------------------------------------------------------------------- workbooks


def test_shared_strings_bomb_is_refused_from_the_directory(tmp_path: Path) -> None:
    """The incident: 2.5 MB on disk, sharedStrings.xml inflating to 1.15 GB."""
    path = bombs.shared_strings_bomb(tmp_path / "bomb.xlsx")
    assert path.stat().st_size < 4_000_000
    err = refused(path, "max_xlsx_part_bytes")
    assert "xl/sharedStrings.xml inflates to 1,1" in err.message


def test_sheet_bomb_is_refused_from_the_directory(tmp_path: Path) -> None:
    path = bombs.sheet_bomb(tmp_path / "sheet.xlsx", inflated=1_500_000_000)
    assert path.stat().st_size < 8_000_000
    err = refused(path, "max_zip_member_bytes")
    assert "xl/worksheets/sheet1.xml" in err.message


def test_the_whole_workbook_is_bounded(tmp_path: Path) -> None:
    sheet = bombs.sheet_xml([["id", "sex"]] + [["P1", "F"]] * 99)
    path = bombs.workbook(tmp_path / "two.xlsx", {"a": sheet, "b": sheet})
    refused(path, "max_zip_total_bytes", max_zip_total_bytes=len(sheet) + 500)
    assert len(rows_of(read(path))) == 99


def test_too_many_zip_members(tmp_path: Path) -> None:
    sheet = bombs.sheet_xml([["id"], ["P1"]])
    path = bombs.workbook(tmp_path / "many.xlsx", {f"s{i}": sheet for i in range(20)})
    assert member_count(path) == 24
    refused(path, "max_zip_members", max_zip_members=10)


def test_a_lying_directory_stops_at_the_declared_size(tmp_path: Path) -> None:
    """The directory says 2 KB; the member inflates to 1.15 GB. Reading stops at 2 KB."""
    bomb = bombs.shared_strings_bomb(tmp_path / "real.xlsx")
    members = {info.filename: info for info in zipfile.ZipFile(bomb).infolist()}
    assert members["xl/sharedStrings.xml"].file_size > 10**9
    chunk = b"<si><t>" + b"A" * 1000 + b"</t></si>"
    lying = bombs.workbook(
        tmp_path / "lying.xlsx",
        {"cases": bombs.sheet_xml([["id"], ["P1"]])},
        shared=bombs.Repeated(bombs.SHARED_PREFIX, chunk * 1000, 1100, bombs.SHARED_SUFFIX),
        declared={"xl/sharedStrings.xml": 2000},
    )
    with pytest.raises(ReadError, match="damaged"):
        read(lying)


def test_members_count_what_they_really_inflate_to(tmp_path: Path) -> None:
    """The second line of defence: the counted stream, whatever the directory said."""
    path = bombs.workbook(tmp_path / "ok.xlsx", {"s": bombs.sheet_xml([["id"], ["P1"]] * 200)})
    archive = BoundedArchive(path)
    archive.guard = Guard(Limits(max_zip_member_bytes=1000), "ok.xlsx")
    with pytest.raises(LimitExceeded, match=r"sheet1\.xml inflates to more than 1,000 bytes"):
        archive.read("xl/worksheets/sheet1.xml")
    archive.close()


def test_slow_parts_run_into_the_time_budget(tmp_path: Path) -> None:
    """A part within the size limits that openpyxl parses whole still stops in time."""
    chunk = b"<si><t>x</t></si>" * 60_000
    shared = bombs.Repeated(bombs.SHARED_PREFIX, chunk, 20, bombs.SHARED_SUFFIX)
    path = bombs.workbook(
        tmp_path / "slow.xlsx", {"s": bombs.sheet_xml([["id"], ["P1"]])}, shared=shared
    )
    refused(path, "max_read_seconds", max_read_seconds=1e-6)


@pytest.mark.timeout(60)  # a hang guard: openpyxl's iter_rows yielded every empty row above
def test_a_row_far_below_is_refused_at_once(tmp_path: Path) -> None:
    """``<row r="2000000000">`` in a 300-byte sheet: openpyxl's ``iter_rows`` yields the two
    billion empty rows above it, one by one (~20 s per 10 million). Now the row's number is
    over ``max_rows`` the moment it is read."""
    sheet = (
        f'<?xml version="1.0"?><worksheet xmlns="{bombs.MAIN}"><sheetData>'
        '<row r="1"><c t="inlineStr"><is><t>id</t></is></c></row>'
        '<row r="2000000000"><c t="inlineStr"><is><t>P1</t></is></c></row>'
        "</sheetData></worksheet>"
    ).encode()
    err = refused(bombs.workbook(tmp_path / "far.xlsx", {"s": sheet}), "max_rows")
    assert err.row == 2_000_000_000 and err.sheet == "s"


def test_gaps_above_data_and_in_the_header(tmp_path: Path) -> None:
    """Rows the XML skips count: the header's second row is blank, data keeps its numbers."""
    sheet = (
        f'<?xml version="1.0"?><worksheet xmlns="{bombs.MAIN}"><sheetData>'
        '<row r="1"><c t="inlineStr"><is><t>id</t></is></c></row>'
        '<row r="3"><c t="inlineStr"><is><t>P1</t></is></c></row>'
        '<row r="9"><c t="inlineStr"><is><t>P2</t></is></c></row>'
        "</sheetData></worksheet>"
    ).encode()
    path = bombs.workbook(tmp_path / "gaps.xlsx", {"s": sheet})
    batches = read(path)
    assert [b.rows.to_pylist() for b in batches] == [[3, 9]]
    two = list(reader_for(path).read(path, ReadOptions(header_rows=2)))
    assert two[0].headers == [["id"], [None]] and two[0].rows.to_pylist() == [3, 9]


def test_workbook_columns_and_cells(tmp_path: Path) -> None:
    wide = bombs.workbook(
        tmp_path / "wide.xlsx", {"s": bombs.sheet_xml([["a", "b", "c"], ["1", "2", "3"]])}
    )
    assert refused(wide, "max_columns", max_columns=2).row == 1
    long = bombs.workbook(
        tmp_path / "long.xlsx", {"s": bombs.sheet_xml([["a", "b"], ["1", "x" * 40]])}
    )
    err = refused(long, "max_cell_chars", max_cell_chars=30)
    assert (err.row, err.column) == (2, "b")


# ---------------------------------------------------------------------------- delimited


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_rows(tmp_path: Path) -> None:
    path = write(tmp_path / "rows.csv", "id\n" + "".join(f"P{i}\n" for i in range(10)))
    assert len(rows_of(read(path, max_rows=11))) == 10
    assert refused(path, "max_rows", max_rows=10).row == 11


def test_csv_columns(tmp_path: Path) -> None:
    path = write(
        tmp_path / "wide.csv", ",".join(f"c{i}" for i in range(6)) + "\n" + "1," * 5 + "1\n"
    )
    refused(path, "max_columns", max_columns=5)


def test_csv_cells_count_characters_not_bytes(tmp_path: Path) -> None:
    path = write(tmp_path / "long.csv", "id,name\nP1," + "é" * 30 + "\nP2," + "x" * 31 + "\n")
    err = refused(path, "max_cell_chars", max_cell_chars=30)
    assert (err.row, err.column) == (3, "name")


def test_csv_header_cells(tmp_path: Path) -> None:
    path = write(tmp_path / "head.csv", "id," + "h" * 50 + "\nP1,x\n")
    assert refused(path, "max_cell_chars", max_cell_chars=40).row == 1


def test_time_budget(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", "id\nP1\n")
    refused(path, "max_read_seconds", max_read_seconds=1e-9)


def test_the_budget_counts_only_the_reader() -> None:
    """Time a consumer spends between batches does not use up the reader's budget."""
    now = [0.0]
    guard = Guard(Limits(max_read_seconds=3), "f.csv", clock=lambda: now[0])
    with guard.running():  # Reader.read brackets each next() like this
        now[0] += 2
    now[0] += 100  # the consumer maps the batch
    with guard.running():
        now[0] += 0.5
        guard.tick()
        now[0] += 1
        with pytest.raises(LimitExceeded, match="more than 3 s"):
            guard.tick()


# ---------------------------------------------------------------------------- JSON


def test_json_document_size_is_checked_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_bytes(orjson.dumps([{"id": f"P{i}"} for i in range(100)]))
    refused(path, "max_json_bytes", max_json_bytes=100)


def test_json_lines_line_size(tmp_path: Path) -> None:
    path = tmp_path / "lines.jsonl"
    path.write_bytes(b'{"id": "P1"}\n{"id": "' + b"x" * 200 + b'"}\n')
    assert refused(path, "max_json_bytes", max_json_bytes=100).row == 2


@pytest.mark.parametrize("depth", [65, 300])
def test_json_depth(tmp_path: Path, depth: int) -> None:
    """Past 254 levels orjson cannot write the value back: a crash before this limit."""
    path = tmp_path / "deep.json"
    path.write_bytes(b'{"id": ' + b"[" * depth + b"]" * depth + b"}")
    refused(path, "max_json_depth")


def test_json_depth_in_phenopackets(tmp_path: Path) -> None:
    """orjson could not even write this document back (``TypeError: Recursion limit``)."""
    doc = orjson.loads((DATA / "phenopackets" / "PMID_16965330_patient1.json").read_bytes())
    doc["subject"]["x"] = orjson.loads(b"[" * 300 + b"]" * 300)
    path = tmp_path / "deep.json"
    path.write_text(json.dumps(doc))
    refused(path, "max_json_depth")


def test_json_rows_and_columns(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_bytes(orjson.dumps([{"id": f"P{i}", "a": 1, "b": 2} for i in range(5)]))
    refused(path, "max_rows", max_rows=4)
    refused(path, "max_columns", max_columns=2)
    refused(path, "max_cell_chars", max_cell_chars=1)


def test_phenopacket_directory_files(tmp_path: Path) -> None:
    folder = tmp_path / "pp"
    folder.mkdir()
    for source in sorted((DATA / "phenopackets").glob("*.json")):
        (folder / source.name).write_bytes(source.read_bytes())
    options = ReadOptions(limits=Limits(max_files=2))
    with pytest.raises(LimitExceeded, match="3 files, more than 2") as info:
        list(PhenopacketReader().read(folder, options))
    assert info.value.limit == "max_files"


# ---------------------------------------------------------------------------- FHIR, Beacon


def refused_by(name: str, path: Path, limit: str, **limits: float) -> LimitExceeded:
    """As :func:`refused`, with the reader chosen by name (the beacon reader never sniffs)."""
    options = ReadOptions(limits=Limits(**limits))  # type: ignore[arg-type]
    with pytest.raises(LimitExceeded) as info:
        list(reader_for(path, prefer=name).read(path, options))
    assert info.value.limit == limit and info.value.file == path.name
    return info.value


def _patient(i: int, **extra: object) -> dict[str, object]:
    return {"resourceType": "Patient", "id": f"p{i}", **extra}


def test_fhir_bundle_entries_depth_size_and_time(tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    entries = [{"fullUrl": f"urn:uuid:{i}", "resource": _patient(i)} for i in range(5)]
    path.write_bytes(
        orjson.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries})
    )
    assert reader_for(path).name == "fhir"
    refused_by("fhir", path, "max_rows", max_rows=4)
    refused_by("fhir", path, "max_json_bytes", max_json_bytes=100)
    refused_by("fhir", path, "max_json_depth", max_json_depth=3)
    refused_by("fhir", path, "max_read_seconds", max_read_seconds=1e-9)


def test_fhir_ndjson_lines(tmp_path: Path) -> None:
    path = tmp_path / "resources.ndjson"
    path.write_bytes(b"\n".join(orjson.dumps(_patient(i)) for i in range(5)) + b"\n")
    assert refused_by("fhir", path, "max_rows", max_rows=4).row == 5
    long = orjson.dumps(_patient(9, name=[{"text": "x" * 200}]))
    path.write_bytes(orjson.dumps(_patient(1)) + b"\n" + long + b"\n")
    assert refused_by("fhir", path, "max_json_bytes", max_json_bytes=100).row == 2
    deep = b'{"resourceType": "Patient", "x": ' + b"[" * 70 + b"]" * 70 + b"}"
    path.write_bytes(deep + b"\n")
    assert refused_by("fhir", path, "max_json_depth").row == 1


def test_fhir_documents_read_whole(tmp_path: Path) -> None:
    """``limits.max_fhir_document_bytes``: a Bundle file, a Bundle line, the loose resources."""
    bundle = {
        "resourceType": "Bundle",
        "entry": [{"resource": _patient(i, name=[{"text": "x" * 50}])} for i in range(5)],
    }
    path = tmp_path / "bundle.json"
    path.write_bytes(orjson.dumps(bundle))
    over = refused_by("fhir", path, "max_fhir_document_bytes", max_fhir_document_bytes=200)
    assert over.message.startswith("the Bundle: ") and over.row is None
    lines = tmp_path / "bundles.ndjson"
    lines.write_bytes(orjson.dumps(_patient(0)) + b"\n" + orjson.dumps(bundle) + b"\n")
    over = refused_by("fhir", lines, "max_fhir_document_bytes", max_fhir_document_bytes=200)
    assert "the Bundle on line 2" in over.message and over.row == 2
    loose = tmp_path / "loose.ndjson"
    loose.write_bytes(b"\n".join(orjson.dumps(_patient(i, note="y" * 60)) for i in range(5)))
    over = refused_by("fhir", loose, "max_fhir_document_bytes", max_fhir_document_bytes=200)
    assert "resources on their own lines, up to line 2" in over.message and over.row == 2
    assert list(reader_for(loose, prefer="fhir").read(loose, ReadOptions()))  # the default


def test_a_beacon_record_over_the_limit_inside_one_chunk(tmp_path: Path) -> None:
    """A record wholly in the read buffer (1 Mi characters) was never measured."""
    path = tmp_path / "individuals.json"
    path.write_bytes(orjson.dumps([{"id": "I1"}, {"id": "I2", "notes": "x" * 500}]))
    over = refused_by("beacon", path, "max_beacon_record_chars", max_beacon_record_chars=300)
    assert over.row == 2 and "record 2 (line 1) is over 300 characters" in over.message
    lone = tmp_path / "one.json"
    lone.write_bytes(orjson.dumps({"id": "I1", "a": "x" * 200, "b": "y" * 200}))
    over = refused_by("beacon", lone, "max_beacon_record_chars", max_beacon_record_chars=300)
    assert "the object is over 300 characters" in over.message


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_beacon_records(tmp_path: Path, suffix: str) -> None:
    records = [{"id": f"Ind{i}", "sex": {"id": "NCIT:C16576"}} for i in range(5)]
    path = tmp_path / f"individuals{suffix}"
    if suffix == ".json":
        path.write_bytes(orjson.dumps({"individuals": records}))
    else:
        path.write_bytes(b"\n".join(orjson.dumps(r) for r in records))
    assert refused_by("beacon", path, "max_rows", max_rows=4).row == 5
    assert refused_by("beacon", path, "max_json_depth", max_json_depth=1).row == 1
    over = refused_by("beacon", path, "max_json_bytes", max_json_bytes=20)
    assert over.row == 1 and "record 1 (line 1)" in over.message
    refused_by("beacon", path, "max_read_seconds", max_read_seconds=1e-9)


def test_a_beacon_line_without_end_is_read_only_to_the_record_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The JSON Lines form read a line whole, however long, before checking its length."""
    import harmonize.readers.formats.beacon as beacon

    path = tmp_path / "individuals.jsonl"
    path.write_bytes(b'{"id": "Ind1"}\n{"id": "' + b"x" * 10_000)
    read_sizes: list[int] = []
    real = beacon._checked

    def spy(fh: object, label: str, longest: int) -> object:
        read_sizes.append(longest)
        return real(fh, label, longest)  # type: ignore[arg-type]

    monkeypatch.setattr(beacon, "_checked", spy)
    info = refused_by("beacon", path, "max_beacon_record_chars", max_beacon_record_chars=100)
    assert info.row == 2 and read_sizes == [102]
    assert "record 2 (line 2) is over 100 characters" in info.message


def test_a_beacon_integer_past_64_bits_is_a_read_error(tmp_path: Path) -> None:
    """The beacon fuzzer found: Python's json reads it, orjson.dumps raised TypeError."""
    for body in (
        b'[{"id": "Ind1", "age": 1180591620717411303424}]',
        b'{"a": 18446744073709551616}',
    ):
        path = tmp_path / "individuals.json"
        path.write_bytes(body)
        with pytest.raises(ReadError, match="64-bit") as info:
            list(reader_for(path, prefer="beacon").read(path, ReadOptions()))
        assert info.value.row == 1
