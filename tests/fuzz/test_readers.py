"""Fuzz every reader: whatever the bytes, a reader yields sane batches or a HarmonizeError.

Structured inputs (tables rendered as CSV, workbooks written part by part, JSON values) with
byte-level edits on top, read under small random limits so the limit paths run too.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harmonize.readers import ReadOptions
from harmonize.readers.formats.beacon import BeaconReader
from harmonize.readers.formats.fhir import FHIRReader
from harmonize.readers.formats.omop import OMOPReader
from harmonize.readers.formats.phenopacket import PhenopacketReader
from harmonize.readers.formats.redcap import REDCapReader
from harmonize.settings import Limits
from tests.fuzz.budget import budget
from tests.fuzz.harness import read
from tests.fuzz.strategies import edited, json_values, nested, text
from tests.support import bombs

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # openpyxl on odd workbooks

PHENOPACKETS = Path(__file__).parents[1] / "readers" / "data" / "phenopackets"
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-32", "cp1252", "latin-1", "ascii"]


@st.composite
def options(draw: st.DrawFn) -> ReadOptions:
    small = draw(st.booleans())
    limits = Limits(
        max_rows=draw(st.integers(1, 40)) if small else 10_000_000,
        max_columns=draw(st.integers(1, 10)) if small else 16_384,
        max_cell_chars=draw(st.integers(1, 30)) if small else 32_767,
        max_json_bytes=draw(st.integers(1, 3000)) if small else 256 * 2**20,
        max_json_depth=draw(st.integers(1, 8)) if small else 64,
        max_zip_members=draw(st.integers(1, 12)) if small else 10_000,
        max_zip_member_bytes=draw(st.integers(1, 5000)) if small else 2**30,
        max_xlsx_part_bytes=draw(st.integers(1, 5000)) if small else 64 * 2**20,
        max_zip_total_bytes=draw(st.integers(1, 20000)) if small else 2**31,
        max_files=draw(st.integers(1, 3)) if small else 10_000,
        max_fhir_document_bytes=draw(st.integers(1, 3000)) if small else 256 * 2**20,
        max_beacon_record_chars=draw(st.integers(1, 3000)) if small else 64 * 2**20,
    )
    return ReadOptions(
        label="",
        header_rows=draw(st.integers(0, 3)),
        batch_size=draw(st.integers(1, 6)),
        encoding=draw(st.none() | st.sampled_from([*ENCODINGS, "no-such-codec"])),
        delimiter=draw(st.none() | st.sampled_from([",", ";", "\t", "|", '"', "\n"])),
        sheet=draw(st.none() | st.sampled_from(["s", "S", "other", ""])),
        limits=limits,
    )


def dumps(value: Any) -> bytes:
    """JSON text (stdlib: integers of any size, unlike orjson)."""
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


def _file(name: str, data: bytes) -> tuple[tempfile.TemporaryDirectory[str], Path]:
    folder = tempfile.TemporaryDirectory()
    path = Path(folder.name) / name
    path.write_bytes(data)
    return folder, path


# ---------------------------------------------------------------------------- CSV, TSV


@st.composite
def delimited(draw: st.DrawFn) -> bytes:
    rows = draw(st.lists(st.lists(text, max_size=6), max_size=8))
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    out = io.StringIO()
    if draw(st.booleans()):
        writer = csv.writer(
            out, delimiter=delimiter, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))
        )
        writer.writerows(rows)
    else:  # unquoted: ragged rows, stray quotes
        out.write("\n".join(delimiter.join(row) for row in rows))
    encoding = draw(st.sampled_from(ENCODINGS))
    errors = "surrogateescape" if encoding.startswith("utf-8") else "replace"
    try:
        data = out.getvalue().encode(encoding, errors)
    except UnicodeEncodeError:
        data = out.getvalue().encode("utf-8", "replace")
    return draw(edited(data))


@budget(250)
@given(
    data=delimited() | st.binary(max_size=300),
    suffix=st.sampled_from([".csv", ".tsv", ".txt"]),
    opts=options(),
)
def test_delimited(data: bytes, suffix: str, opts: ReadOptions) -> None:
    folder, path = _file("f" + suffix, data)
    with folder:
        read(path, opts)


# ---------------------------------------------------------------------------- XLSX

STYLES = (
    f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{bombs.MAIN}">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm"/></numFmts>'
    '<cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/>'
    '<xf numFmtId="164" applyNumberFormat="1"/></cellXfs></styleSheet>'
).encode()
CELL_TYPES = [None, "s", "n", "b", "e", "str", "inlineStr", "d"]
VALUES = [
    "0",
    "1",
    "-1",
    "2",
    "1e308",
    "1e999",
    "-1e999",
    "nan",
    "inf",
    "45000.5",
    "60",
    "2958466",
    "-700000",
    "99999999999999",
    "2024-01-02",
    "2024-13-45T99:00",
    "abc",
    "",
    "#N/A",
    "TRUE",
]


@st.composite
def cell(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(CELL_TYPES))
    value = draw(st.sampled_from(VALUES) | text)
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace("\x00", "")
    attrs = ""
    if draw(st.booleans()):
        column = draw(st.sampled_from(["A", "B", "C", "Z", "AA", "XFD", "XFE", "ZZZZ", "", "1"]))
        attrs += f' r="{column}{draw(st.integers(-1, 2**33))}"'
    if kind:
        attrs += f' t="{kind}"'
    if draw(st.booleans()):
        attrs += f' s="{draw(st.integers(-1, 4))}"'
    if kind == "inlineStr":
        return f"<c{attrs}><is><t>{value}</t></is></c>"
    return f"<c{attrs}><v>{value}</v></c>"


@st.composite
def sheet(draw: st.DrawFn) -> bytes:
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        r = draw(st.none() | st.integers(-2, 60) | st.integers(-2, 2**34))
        cells = "".join(draw(st.lists(cell(), max_size=5)))
        attr = "" if r is None else f' r="{r}"'
        rows.append(f"<row{attr}>{cells}</row>")
    dimension = draw(
        st.sampled_from(["", '<dimension ref="A1:C3"/>', '<dimension ref="XFD1048576"/>'])
    )
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{bombs.MAIN}">{dimension}'
        f"<sheetData>{''.join(rows)}</sheetData></worksheet>"
    ).encode()
    return draw(edited(xml)) if draw(st.booleans()) else xml


@st.composite
def workbook(draw: st.DrawFn) -> bytes:
    names = draw(
        st.lists(
            st.sampled_from(["s", "S", "other", "Sheet1", "x" * 40, ""]), min_size=0, max_size=3
        )
    )
    sheets = [(name, draw(sheet())) for name in names]
    strings = [
        draw(text).replace("&", "&amp;").replace("<", "&lt;").replace("\x00", "")
        for _ in range(draw(st.integers(0, 4)))
    ]
    shared = (
        bombs.SHARED_PREFIX
        + b"".join(f"<si><t>{s}</t></si>".encode() for s in strings)
        + bombs.SHARED_SUFFIX
    )
    folder = tempfile.TemporaryDirectory()
    with folder:
        path = bombs.workbook_named(
            Path(folder.name) / "w.xlsx", sheets, shared=shared if draw(st.booleans()) else None
        )
        import zipfile

        members = {}
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                members[info.filename] = archive.read(info)
        if draw(st.booleans()):
            members["xl/styles.xml"] = STYLES
        victim = draw(st.sampled_from([None, *sorted(members)]))
        if victim is not None:
            members[victim] = draw(edited(members[victim]))
        bombs.write_zip(path, members)  # type: ignore[arg-type]
        data = path.read_bytes()
    return draw(edited(data)) if draw(st.integers(0, 9)) == 0 else data


@budget(100)
@given(data=workbook(), opts=options())
def test_xlsx(data: bytes, opts: ReadOptions) -> None:
    folder, path = _file("w.xlsx", data)
    with folder:
        read(path, opts)


# ---------------------------------------------------------------------------- JSON


@st.composite
def json_document(draw: st.DrawFn) -> tuple[str, bytes]:
    lines = draw(st.booleans())
    records = draw(
        st.lists(json_values(), max_size=5)
        | st.lists(
            st.dictionaries(st.sampled_from(["id", "Id", "sex", "a"]), json_values(6)), max_size=5
        )
    )
    if lines:
        body = b"\n".join(
            dumps(r)
            if draw(st.integers(0, 5))
            else draw(st.sampled_from([b"", b" ", nested(70), b'{"a":1,"a":2}']))
            for r in records
        )
        suffix = draw(st.sampled_from([".jsonl", ".ndjson"]))
    else:
        value: Any = records if draw(st.booleans()) else (records[0] if records else {})
        body = dumps(value)
        if draw(st.integers(0, 4)) == 0:
            body = b'{"x": ' + nested(draw(st.integers(1, 1100))) + b"}"
        suffix = ".json"
    return suffix, draw(edited(body))


@budget(250)
@given(doc=json_document(), opts=options())
def test_json(doc: tuple[str, bytes], opts: ReadOptions) -> None:
    suffix, data = doc
    folder, path = _file("r" + suffix, data)
    with folder:
        read(path, opts)


# ---------------------------------------------------------------------------- Phenopackets

REAL = [orjson.loads(p.read_bytes()) for p in sorted(PHENOPACKETS.glob("*.json"))]


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    """A real phenopacket with a few subtrees replaced."""
    doc = json.loads(dumps(draw(st.sampled_from(REAL))))
    for _ in range(draw(st.integers(0, 3))):
        node: Any = doc
        for _ in range(draw(st.integers(0, 4))):
            if isinstance(node, dict) and node:
                key = draw(st.sampled_from(sorted(node)))
                if not isinstance(node[key], dict | list) or not node[key]:
                    break
                node = node[key]
            elif isinstance(node, list) and node:
                child = node[draw(st.integers(0, len(node) - 1))]
                if not isinstance(child, dict | list) or not child:
                    break
                node = child
        if isinstance(node, dict) and node:
            node[draw(st.sampled_from(sorted(node)))] = draw(json_values(8))
        elif isinstance(node, list) and node:
            node[0] = draw(json_values(8))
    return doc


@st.composite
def phenopacket_input(draw: st.DrawFn) -> tuple[str, dict[str, bytes]]:
    docs = draw(st.lists(mutated(), min_size=1, max_size=3))
    kind = draw(st.sampled_from(["file", "array", "lines", "dir"]))
    if kind == "file":
        return "p.json", {"p.json": draw(edited(dumps(docs[0])))}
    if kind == "array":
        return "p.json", {"p.json": draw(edited(dumps(docs)))}
    if kind == "lines":
        return "p.jsonl", {"p.jsonl": draw(edited(b"\n".join(map(dumps, docs))))}
    files = {f"d/{i}.json": draw(edited(dumps(doc))) for i, doc in enumerate(docs)}
    if draw(st.booleans()):
        files["d/.hidden.json"] = b"not json"
    return "d", files


@budget(150)
@given(case=phenopacket_input(), opts=options(), generic=st.booleans())
def test_phenopacket(case: tuple[str, dict[str, bytes]], opts: ReadOptions, generic: bool) -> None:
    target, files = case
    with tempfile.TemporaryDirectory() as folder:
        for name, data in files.items():
            path = Path(folder) / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        read(Path(folder) / target, opts, None if generic else PhenopacketReader())


# ---------------------------------------------------------------------------- FHIR, Beacon


@st.composite
def fhir_resource(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["Patient", "Condition", "Observation", "Bundle"]) | text)
    fields = st.sampled_from(["id", "subject", "code", "gender", "entry", "resourceType"])
    return {"resourceType": kind, **draw(st.dictionaries(fields, json_values(6), max_size=3))}


@st.composite
def fhir_input(draw: st.DrawFn) -> tuple[str, bytes]:
    """A Bundle file, a lone resource, or NDJSON of Bundles and loose resources."""
    resources = draw(st.lists(fhir_resource(), max_size=4))
    kind = draw(st.sampled_from(["bundle", "resource", "ndjson"]))
    if kind == "bundle":
        entries = [
            {"fullUrl": f"urn:uuid:{i}", "resource": r} if draw(st.integers(0, 5)) else r
            for i, r in enumerate(resources)
        ]
        body = dumps({"resourceType": "Bundle", "type": "collection", "entry": entries})
        return ".json", draw(edited(body))
    if kind == "resource":
        return ".json", draw(edited(dumps(resources[0] if resources else {})))
    lines = [
        dumps({"resourceType": "Bundle", "entry": [{"resource": r}]})
        if draw(st.booleans())
        else dumps(r)
        for r in resources
    ]
    return ".ndjson", draw(edited(b"\n".join(lines)))


@budget(100)
@given(case=fhir_input(), opts=options())
def test_fhir(case: tuple[str, bytes], opts: ReadOptions) -> None:
    suffix, data = case
    folder, path = _file("f" + suffix, data)
    with folder:
        read(path, opts, FHIRReader())


@st.composite
def beacon_input(draw: st.DrawFn) -> tuple[str, bytes]:
    """Individuals as an array, an ``individuals`` wrapper, one object, or JSON Lines."""
    fields = st.sampled_from(["id", "sex", "diseases", "phenotypicFeatures", "individuals"])
    records = draw(
        st.lists(st.dictionaries(fields, json_values(6), max_size=4) | json_values(4), max_size=5)
    )
    form = draw(st.sampled_from(["array", "wrapped", "lone", "lines"]))
    if form == "lines":
        return ".jsonl", draw(edited(b"\n".join(map(dumps, records))))
    if form == "array":
        body = dumps(records)
    elif form == "wrapped":
        body = dumps({"meta": draw(json_values(3)), "individuals": records})
    else:
        body = dumps(records[0] if records else {})
    return ".json", draw(edited(body))


@budget(100)
@given(case=beacon_input(), opts=options())
def test_beacon(case: tuple[str, bytes], opts: ReadOptions) -> None:
    suffix, data = case
    folder, path = _file("b" + suffix, data)
    with folder:
        read(path, opts, BeaconReader())


# ---------------------------------------------------------------------------- REDCap, OMOP

RECORD_IDS = st.sampled_from(["1", "2", "3", "", "1 ", "x"])


@st.composite
def redcap_records(draw: st.DrawFn) -> bytes:
    """A records export: record ids in any order (rows of a record apart, too), or a
    dictionary's header."""
    if draw(st.booleans()):
        head = "record_id,redcap_event_name,redcap_repeat_instance,sex"
    else:
        head = '"Variable / Field Name","Form Name","Field Type",x'
    rows = draw(st.lists(st.tuples(RECORD_IDS, text, text), max_size=8))
    body = "\n".join(",".join(row) for row in rows)
    return draw(edited(f"{head}\n{body}".encode()))


@budget(100)
@given(data=redcap_records() | delimited(), opts=options())
def test_redcap(data: bytes, opts: ReadOptions) -> None:
    folder, path = _file("records.csv", data)
    with folder:
        batches = read(path, opts, REDCapReader())
        ids = [i for b in batches for i in b.table.column(0).to_pylist()]
        apart = [i for n, i in enumerate(ids) if n and i != ids[n - 1] and i in ids[: n - 1]]
        assert apart == []  # a record's rows are together, or the file was refused


@st.composite
def omop_tables(draw: st.DrawFn) -> dict[str, bytes]:
    """PERSON and some clinical tables, person ids overlapping or not."""
    people = st.sampled_from(["1", "2", "3", "", "9"])
    files = {
        "PERSON.csv": "person_id,gender_concept_id\n"
        + "\n".join(f"{p},{c}" for p, c in draw(st.lists(st.tuples(people, text), max_size=5)))
    }
    for table in draw(
        st.lists(st.sampled_from(["CONDITION_OCCURRENCE", "MEASUREMENT"]), max_size=2)
    ):
        head = draw(st.sampled_from(["person_id,x_concept_id", "x_concept_id", "person_id"]))
        rows = draw(st.lists(st.tuples(people, text), max_size=5))
        files[f"{table}.csv"] = head + "\n" + "\n".join(f"{p},{x}" for p, x in rows)
    return {name: draw(edited(body.encode())) for name, body in files.items()}


@budget(60)
@given(tables=omop_tables(), opts=options())
def test_omop(tables: dict[str, bytes], opts: ReadOptions) -> None:
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for name, data in tables.items():
            (Path(folder) / name).write_bytes(data)
            paths.append((name, Path(folder) / name))
        batches = read(
            Path(folder) / "PERSON.csv", replace(opts, companions=tuple(paths)), OMOPReader()
        )
        # a person's clinical records are all in one batch (a PERSON row given twice is the
        # profile's duplicate-id finding)
        people = [
            {
                p
                for p, t in zip(
                    *(b.table.column(c).to_pylist() for c in ("person_id", "table")), strict=True
                )
                if t != "PERSON"
            }
            for b in batches
        ]
        for i, mine in enumerate(people):
            assert not any(mine & other for other in people[i + 1 :])
