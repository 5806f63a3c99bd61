"""JSON and JSON Lines of flat records: one row per object, one string column per key.

A ``.json`` file holds one object or an array of objects (rows are the 1-based element
numbers); a ``.jsonl``/``.ndjson`` file holds one object per line (rows are line numbers,
blank lines skipped). Strings are kept as they are (an empty string becomes null, as an empty
cell does); numbers, booleans and nested arrays or objects become their compact JSON text.
Columns are every key seen, in order of first appearance; ``headers`` is that list of keys.
A key written twice in one object and two keys that differ only in case and both hold values
(:mod:`harmonize.readers.headers`) are errors at their row and key. A NUL character (raw or
``\\u0000``, in a key or a value at any depth) and bytes that are not UTF-8 are errors at
their line and column, row, and key (``name``, or a path into a nested value,
``address.lines[0]``: :mod:`harmonize.readers.json_text`).

Phenopackets are left to :mod:`harmonize.readers.formats.phenopacket` (which also holds the
JSON parsing helpers both readers share, so that it registers first).
"""

from __future__ import annotations

import json
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
from harmonize.readers.headers import HeaderChecks
from harmonize.readers.limits import Guard


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


def _batch(
    label: str,
    names: list[str],
    records: list[tuple[int, dict[str, Any]]],
    guard: Guard,
    checks: HeaderChecks,
) -> SourceBatch:
    columns = [
        pa.array([json_text(record.get(name)) for _, record in records], type=pa.string())
        for name in names
    ]
    header: list[str | None] = list(names)
    batch = SourceBatch(
        file=label,
        table=pa.Table.from_arrays(columns, names=names),
        rows=pa.array([row for row, _ in records], type=pa.int64()),
        headers=[header],
    )
    guard.cells(batch.table, batch.rows)
    checks.check(batch.table, batch.rows)
    return batch


def _check_names(names: list[str], label: str, guard: Guard) -> HeaderChecks:
    if not names:
        raise ReadError("the records have no fields", file=label, hint="every record is {}")
    guard.width(len(names))
    for name in names:
        guard.text(name, column=name)
    return HeaderChecks([list(names)], names, label, letters=False, repeated=False)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(key)
        seen[key] = value
    return seen


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


_DECODER = json.JSONDecoder(object_pairs_hook=_unique_keys)


def _duplicate_key(dup: _DuplicateKey, label: str, row: int) -> ReadError:
    return ReadError(
        f"key {dup.key!r} appears twice in one object",
        file=label,
        row=row,
        column=dup.key,
        hint="write each key once per record",
    )


def no_duplicate_keys(raw: bytes, label: str, row: int | None = None) -> None:
    """A key written twice in one object (JSON parsers silently keep the last value).

    ``raw`` is JSON that orjson has parsed: one object (at ``row``), or, when ``row`` is
    ``None``, a document whose top-level array elements are rows 1, 2, ...

    >>> no_duplicate_keys(b'[{"a": 1}, {"b": 2, "b": 3}]', "x.json")
    Traceback (most recent call last):
    ...
    harmonize.errors.ReadError: x.json, row 2, column 'b': key 'b' appears twice in one object. write each key once per record
    """
    text = raw.decode("utf-8-sig")
    index = _skip_space(text, 0)
    try:
        if row is not None or not text.startswith("[", index):
            try:
                _DECODER.raw_decode(text, index)
            except _DuplicateKey as dup:
                raise _duplicate_key(dup, label, row or 1) from None
            return
        index, element = _skip_space(text, index + 1), 1
        while not text.startswith("]", index):
            try:
                _, index = _DECODER.raw_decode(text, index)
            except _DuplicateKey as dup:
                raise _duplicate_key(dup, label, element) from None
            index = _skip_space(text, index)
            if not text.startswith(",", index):
                return
            index, element = _skip_space(text, index + 1), element + 1
    except (ValueError, RecursionError):
        return  # orjson accepted it: a difference between parsers is not a duplicate


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index


@register
class JSONReader(Reader):
    """Flat JSON records (an object, an array of objects, or JSON Lines)."""

    name = "json"
    extensions = (".json", *LINES_SUFFIXES)

    @classmethod
    def can_read(cls, path: Path, head: bytes) -> bool:
        return super().can_read(path, head) and not looks_like_phenopacket(head)

    def batches(self, path: Path, options: ReadOptions, guard: Guard) -> Iterator[SourceBatch]:
        check_options(options)
        label = file_label(path, options)
        if path.suffix.lower() in LINES_SUFFIXES:
            yield from self._read_lines(path, options, label, guard)
        else:
            yield from self._read_document(path, options, label, guard)

    def _read_document(
        self, path: Path, options: ReadOptions, label: str, guard: Guard
    ) -> Iterator[SourceBatch]:
        data = load_json(path, label, guard)
        elements = data if isinstance(data, list) else [data]
        guard.row(len(elements))
        records = [
            (row, require_object(value, label, row, "one per array element"))
            for row, value in enumerate(elements, start=1)
        ]
        if not records:
            raise ReadError("no data rows", file=label, hint="the array is empty; add records")
        no_duplicate_keys(path.read_bytes(), label, None if isinstance(data, list) else 1)
        names = list(dict.fromkeys(key for _, record in records for key in record))
        checks = _check_names(names, label, guard)
        for start in range(0, len(records), options.batch_size):
            guard.tick()
            chunk = records[start : start + options.batch_size]
            yield _batch(label, names, chunk, guard, checks)

    def _read_lines(
        self, path: Path, options: ReadOptions, label: str, guard: Guard
    ) -> Iterator[SourceBatch]:
        # First pass: validate every line and collect the keys, so that every batch has the
        # same columns and bad input fails before any batch is handed out.
        keys: dict[str, None] = {}
        for row, value in json_lines(path, label, guard, check=no_duplicate_keys):
            keys.update(dict.fromkeys(require_object(value, label, row, "one per line")))
            guard.width(len(keys), row=row)
        names = list(keys)
        checks = _check_names(names, label, guard)
        records: list[tuple[int, dict[str, Any]]] = []
        for row, value in json_lines(path, label, guard):
            records.append((row, value))
            if len(records) == options.batch_size:
                yield _batch(label, names, records, guard, checks)
                records = []
        if records:
            yield _batch(label, names, records, guard, checks)
