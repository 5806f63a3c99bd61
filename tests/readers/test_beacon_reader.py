"""The Beacon individuals reader: records streamed whatever the chunk size, limits, errors."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import harmonize.readers.formats.beacon as beacon
from harmonize.errors import LimitExceeded, ReadError
from harmonize.readers import ReadOptions, reader_for
from harmonize.settings import Limits

RECORDS = [
    {"id": f"Ind{i:03d}", "notes": 'quotes " and brackets ]}[{ ' * (i % 3), "n": [1, 2.5, None]}
    for i in range(1, 24)
]


def read(path: Path, batch_size: int = 5) -> list[tuple[int, int, dict[str, Any]]]:
    out = []
    for batch in reader_for(path, prefer="beacon").read(path, ReadOptions(batch_size=batch_size)):
        assert batch.num_rows <= batch_size
        lines = [int(x) for x in batch.table.column("document_line").to_pylist()]
        docs = [json.loads(x) for x in batch.table.column("document").to_pylist()]
        out += list(zip(batch.rows.to_pylist(), lines, docs, strict=True))
    return out


@pytest.mark.parametrize("chunk", [1, 3, 64, 1 << 20])
@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("array.json", json.dumps(RECORDS, indent=2)),
        ("wrapped.json", json.dumps({"meta": {"x": [1]}, "individuals": RECORDS, "z": 1})),
        ("lines.jsonl", "\n".join(json.dumps(r) for r in RECORDS) + "\n\n"),
    ],
)
def test_records_stream_across_chunk_boundaries(
    name: str, text: str, chunk: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(beacon, "CHUNK_CHARS", chunk)
    path = tmp_path / name
    path.write_text(text)
    got = read(path)
    assert [doc for _, _, doc in got] == RECORDS
    assert [row for row, _, _ in got] == list(range(1, len(RECORDS) + 1))  # record numbers
    if name == "array.json":
        assert got[1][1] == text.splitlines().index('    "id": "Ind002",')  # its "{" line


def test_a_lone_individual_is_one_record(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text(json.dumps(RECORDS[0], indent=1))
    assert read(path) == [(1, 1, RECORDS[0])]


def test_the_reader_is_never_picked_by_sniffing(tmp_path: Path) -> None:
    path = tmp_path / "individuals.json"
    path.write_text(json.dumps(RECORDS))
    assert reader_for(path).name == "json"


@pytest.mark.parametrize(
    ("text", "row", "message"),
    [
        ('[{"id": "a"},\n {"id": "b",\n "x": [1, 2}\n]', 2, "record 2, line 3, column 12"),
        ('[{"id": "a"},]', 2, "record 2, line 1, column 14"),
        ('[{"id": "a"} {"id": "b"}]', 2, "expected ',' or ']' after a record"),
        ('[{"id": "a"}, 3]', 2, "record 2 (line 1) is a int, not an individual"),
        ('[{"id": NaN}]', 1, "NaN is not JSON"),
        ('[{"id": "a"}] x', None, "unexpected data after the individuals"),
        ('{"individuals": 3}', None, "'individuals' must be an array"),
        ("[]", None, "no individuals"),
        ("", None, "file is empty"),
    ],
)
def test_broken_files_name_the_record(
    text: str, row: int | None, message: str, tmp_path: Path
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ReadError, match=re.escape(message)) as err:
        read(path)
    assert err.value.row == row


def test_broken_json_lines_name_record_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a"}\n\n{"id": \n')
    with pytest.raises(ReadError, match="record 2, line 3") as err:
        read(path)
    assert err.value.row == 2


def test_a_record_over_the_limit_is_refused_without_reading_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(beacon, "CHUNK_CHARS", 16)
    path = tmp_path / "big.json"
    path.write_text(json.dumps([{"id": "a"}, {"id": "b", "notes": "x" * 500}, {"id": "c"}]))
    options = ReadOptions(limits=Limits(max_beacon_record_chars=100))
    with pytest.raises(LimitExceeded, match=r"record 2 .* is over 100 characters") as err:
        list(reader_for(path, prefer="beacon").read(path, options))
    assert err.value.row == 2 and err.value.limit == "max_beacon_record_chars"


def test_non_utf8_is_refused_at_its_place(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes('[{"id": "Jos\u00e9"}]'.encode("latin-1"))
    with pytest.raises(
        ReadError, match=r"not valid UTF-8 at line 1, column 13 \(byte 0xE9\)"
    ) as err:
        read(path)
    assert (err.value.row, err.value.column, err.value.value) == (1, "id", "Jos\\xe9")
