"""JSON and JSON Lines of flat records: one row per object, one string column per key.

A ``.json`` file holds one object or an array of objects (rows are the 1-based element
numbers); a ``.jsonl``/``.ndjson`` file holds one object per line (rows are line numbers,
blank lines skipped). Strings are kept as they are (an empty string becomes null, as an empty
cell does); numbers, booleans and nested arrays or objects become their compact JSON text.
Columns are every key seen, in order of first appearance; ``headers`` is that list of keys.

Phenopackets are left to :mod:`harmonize.readers.formats.phenopacket` (which also holds the
JSON parsing helpers both readers share, so that it registers first).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from harmonize.errors import ReadError
from harmonize.readers.base import Reader, ReadOptions, SourceBatch, register
from harmonize.readers.formats.csv import check_options, file_label
from harmonize.readers.formats.phenopacket import (
    LINES_SUFFIXES,
    json_lines,
    load_json,
    looks_like_phenopacket,
    require_object,
)


def json_text(value: Any) -> str | None:
    """A JSON value as a raw string cell.

    >>> [json_text(v) for v in ("a", "", None, 3, 2.5, True, [1, {"b": None}])]
    ['a', None, None, '3', '2.5', 'true', '[1,{"b":null}]']
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    return orjson.dumps(value).decode()


def _batch(label: str, names: list[str], records: list[tuple[int, dict[str, Any]]]) -> SourceBatch:
    columns = [
        pa.array([json_text(record.get(name)) for _, record in records], type=pa.string())
        for name in names
    ]
    header: list[str | None] = list(names)
    return SourceBatch(
        file=label,
        table=pa.Table.from_arrays(columns, names=names),
        rows=pa.array([row for row, _ in records], type=pa.int64()),
        headers=[header],
    )


def _check_names(names: list[str], label: str) -> None:
    if not names:
        raise ReadError("the records have no fields", file=label, hint="every record is {}")


@register
class JSONReader(Reader):
    """Flat JSON records (an object, an array of objects, or JSON Lines)."""

    name = "json"
    extensions = (".json", *LINES_SUFFIXES)

    @classmethod
    def can_read(cls, path: Path, head: bytes) -> bool:
        return super().can_read(path, head) and not looks_like_phenopacket(head)

    def read(self, path: Path, options: ReadOptions) -> Iterator[SourceBatch]:
        check_options(options)
        label = file_label(path, options)
        if path.suffix.lower() in LINES_SUFFIXES:
            yield from self._read_lines(path, options, label)
        else:
            yield from self._read_document(path, options, label)

    def _read_document(self, path: Path, options: ReadOptions, label: str) -> Iterator[SourceBatch]:
        data = load_json(path, label)
        elements = data if isinstance(data, list) else [data]
        records = [
            (row, require_object(value, label, row, "one per array element"))
            for row, value in enumerate(elements, start=1)
        ]
        if not records:
            raise ReadError("no data rows", file=label, hint="the array is empty; add records")
        names = list(dict.fromkeys(key for _, record in records for key in record))
        _check_names(names, label)
        for start in range(0, len(records), options.batch_size):
            yield _batch(label, names, records[start : start + options.batch_size])

    def _read_lines(self, path: Path, options: ReadOptions, label: str) -> Iterator[SourceBatch]:
        # First pass: validate every line and collect the keys, so that every batch has the
        # same columns and bad input fails before any batch is handed out.
        keys: dict[str, None] = {}
        for row, value in json_lines(path, label):
            keys.update(dict.fromkeys(require_object(value, label, row, "one per line")))
        names = list(keys)
        _check_names(names, label)
        records: list[tuple[int, dict[str, Any]]] = []
        for row, value in json_lines(path, label):
            records.append((row, value))
            if len(records) == options.batch_size:
                yield _batch(label, names, records)
                records = []
        if records:
            yield _batch(label, names, records)
