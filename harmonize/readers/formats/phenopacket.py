"""Phenopacket v2 JSON: one file, a JSON Lines file of phenopackets, or a directory of them.

Every batch has one column, ``document``, holding each phenopacket as compact JSON text.
For a single ``.json`` file the row is 1 (or, for an array of phenopackets, the element
number); for JSON Lines it is the line number. A directory is read file by file (``*.json``,
recursively, hidden files skipped, in path order): its batches are labelled with the
directory and carry a second column, ``document_file``, with each file's path relative to it.

The JSON helpers the generic JSON reader shares (:func:`load_json`, :func:`json_lines`,
:func:`looks_like_phenopacket`, :func:`require_object`) live here so that this module
registers before :mod:`harmonize.readers.formats.json`. They are bounded: a document (a
``.json`` file, one line of JSON Lines) over ``limits.max_json_bytes`` is refused before it
is parsed, one nested deeper than ``limits.max_json_depth`` once it is, and a directory
with more than ``limits.max_files`` files before any is read. Bytes that are not UTF-8 and
NUL characters (raw, or ``\\u0000`` escapes) are errors at their line and column, record
and field (:mod:`harmonize.readers.json_text`).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from harmonize.errors import ReadError
from harmonize.readers.base import Reader, ReadOptions, SourceBatch, register
from harmonize.readers.formats.csv import check_options, file_label
from harmonize.readers.json_text import RowOf, at_row, check_value, elements, refused
from harmonize.readers.limits import Guard

LINES_SUFFIXES = (".jsonl", ".ndjson")
JSON_HINT = "fix the JSON syntax at that line (a JSON validator shows the exact spot)"
_PHENOPACKET_KEYS = re.compile(rb'"(?:phenotypicFeatures|metaData)"\s*:|"subject"\s*:\s*\{')
_FHIR_KEY = re.compile(rb'"resourceType"\s*:')  # a FHIR resource (a Condition has a subject)


def looks_like_phenopacket(head: bytes) -> bool:
    """Whether a JSON file's first bytes look like Phenopacket JSON (not flat records).

    >>> looks_like_phenopacket(b'{"id": "p1", "subject": {"id": "s1"}}')
    True
    >>> looks_like_phenopacket(b'[{"id": "p1", "subject": "s1"}]')
    False
    >>> looks_like_phenopacket(b'{"resourceType": "Condition", "subject": {"reference": "x"}}')
    False
    """
    body = head.removeprefix(codecs.BOM_UTF8).lstrip()
    return (
        body[:1] in (b"{", b"[")
        and _PHENOPACKET_KEYS.search(body) is not None
        and _FHIR_KEY.search(body) is None
    )


def _decode_error(err: orjson.JSONDecodeError, label: str, line: int | None = None) -> ReadError:
    row = line if line is not None else err.lineno
    where = f"line {row}" if line is not None else f"line {err.lineno}, column {err.colno}"
    return ReadError(f"invalid JSON at {where}: {err.msg}", file=label, row=row, hint=JSON_HINT)


def load_json(path: Path, label: str, guard: Guard, *, row_of: RowOf = elements) -> Any:
    """Parse a whole JSON file; errors name the line.

    Bytes that are not UTF-8 and NUL characters are errors at their line, column, record
    (``row_of`` says which) and field (:mod:`harmonize.readers.json_text`).
    """
    guard.json_bytes(path.stat().st_size, file=label)
    data = path.read_bytes().removeprefix(codecs.BOM_UTF8)
    if not data.strip():
        raise ReadError("file is empty", file=label, hint="submit a file with JSON data")
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as err:
        raise (refused(data, label, row_of=row_of) or _decode_error(err, label)) from err
    guard.json_depth(value, file=label)
    check_value(value, data, label, row_of=row_of)
    return value


def json_lines(
    path: Path,
    label: str,
    guard: Guard,
    *,
    check: Callable[[bytes, str, int], None] | None = None,
    row_of: Callable[[int], RowOf] = at_row,
) -> Iterator[tuple[int, Any]]:
    """``(line number, parsed value)`` for every non-blank line of a JSON Lines file.

    ``check`` is called with each parsed line's text, the label and the line number.
    ``row_of(line)`` places a bad character's field (:mod:`harmonize.readers.json_text`).
    """
    seen = False
    limit = guard.limits.max_json_bytes
    with path.open("rb") as fh:
        number = 0
        while line := fh.readline(limit + 2):
            number += 1
            guard.row(number)
            if number % 64 == 0:
                guard.tick()
            text = line.removeprefix(codecs.BOM_UTF8) if number == 1 else line
            guard.json_bytes(len(text.rstrip(b"\r\n")), file=label, row=number)
            if not text.strip():
                continue
            where = row_of(number)
            try:
                value = orjson.loads(text)
            except orjson.JSONDecodeError as err:
                bad = refused(text, label, row_of=where, first_line=number)
                raise (bad or _decode_error(err, label, number)) from err
            guard.json_depth(value, file=label, row=number)
            check_value(value, text, label, row_of=where, first_line=number)
            if check is not None:
                check(text, label, number)
            seen = True
            yield number, value
    if not seen:
        raise ReadError("file is empty", file=label, hint="submit one JSON object per line")


def require_object(value: Any, label: str, row: int, what: str) -> dict[str, Any]:
    """``value`` if it is a JSON object, else a ReadError naming the row."""
    if not isinstance(value, dict):
        kind = type(value).__name__ if value is not None else "null"
        raise ReadError(
            f"expected a JSON object ({what}), found {kind}",
            file=label,
            row=row,
            hint="every record must be a JSON object {...}",
        )
    return value


WHAT = "a phenopacket"


def _document(value: dict[str, Any]) -> str:
    return orjson.dumps(value).decode()


def _walk(path: Path) -> Iterator[tuple[str, Path]]:
    for file in path.rglob("*"):
        relative = file.relative_to(path)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if file.suffix.lower() == ".json" and file.is_file():
            yield relative.as_posix(), file


def _directory_files(path: Path, guard: Guard) -> list[tuple[str, Path]]:
    found = []
    for entry in _walk(path):
        found.append(entry)
        guard.files(len(found))
    return sorted(found)


def _batch(
    label: str, documents: list[str], rows: list[int], files: list[str] | None
) -> SourceBatch:
    columns = {"document": pa.array(documents, type=pa.string())}
    if files is not None:
        columns["document_file"] = pa.array(files, type=pa.string())
    return SourceBatch(file=label, table=pa.table(columns), rows=pa.array(rows, type=pa.int64()))


@register
class PhenopacketReader(Reader):
    """GA4GH Phenopacket v2 JSON documents, passed through whole."""

    name = "phenopacket"
    extensions = (".json", *LINES_SUFFIXES)

    @classmethod
    def can_read(cls, path: Path, head: bytes) -> bool:
        if path.is_dir():
            return next(_walk(path), None) is not None
        return super().can_read(path, head) and looks_like_phenopacket(head)

    def batches(self, path: Path, options: ReadOptions, guard: Guard) -> Iterator[SourceBatch]:
        check_options(options)
        label = file_label(path, options)
        if path.is_dir():
            yield from self._read_directory(path, options, label, guard)
        elif path.suffix.lower() in LINES_SUFFIXES:
            yield from self._read_lines(path, options, label, guard)
        else:
            yield from self._read_file(path, options, label, guard)

    def _read_file(
        self, path: Path, options: ReadOptions, label: str, guard: Guard
    ) -> Iterator[SourceBatch]:
        data = load_json(path, label, guard)
        if isinstance(data, list):
            if not data:
                raise ReadError("no data rows", file=label, hint="the array holds no phenopackets")
            guard.row(len(data))
            for start in range(0, len(data), options.batch_size):
                chunk = data[start : start + options.batch_size]
                rows = list(range(start + 1, start + len(chunk) + 1))
                documents = [
                    _document(require_object(value, label, row, WHAT))
                    for row, value in zip(rows, chunk, strict=True)
                ]
                yield _batch(label, documents, rows, None)
        else:
            yield _batch(label, [_document(require_object(data, label, 1, WHAT))], [1], None)

    def _read_lines(
        self, path: Path, options: ReadOptions, label: str, guard: Guard
    ) -> Iterator[SourceBatch]:
        documents: list[str] = []
        rows: list[int] = []
        for row, value in json_lines(path, label, guard):
            documents.append(_document(require_object(value, label, row, "one per line")))
            rows.append(row)
            if len(rows) == options.batch_size:
                yield _batch(label, documents, rows, None)
                documents, rows = [], []
        if rows:
            yield _batch(label, documents, rows, None)

    def _read_directory(
        self, path: Path, options: ReadOptions, label: str, guard: Guard
    ) -> Iterator[SourceBatch]:
        files = _directory_files(path, guard)
        if not files:
            raise ReadError(
                "no phenopacket files in the directory",
                file=label,
                hint="put one phenopacket per .json file in the directory",
            )
        for start in range(0, len(files), options.batch_size):
            chunk = files[start : start + options.batch_size]
            documents = []
            for relative, file in chunk:
                guard.tick()
                where = f"{label}/{relative}"
                value = load_json(file, where, guard)
                documents.append(_document(require_object(value, where, 1, WHAT)))
            names = [relative for relative, _ in chunk]
            yield _batch(label, documents, [1] * len(chunk), names)
