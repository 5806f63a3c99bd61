"""Beacon v2 individuals ("BFF" JSON), streamed one record at a time in bounded memory.

A file holds the individuals as one of:

- a JSON array of individuals: ``[{"id": "Ind001", ...}, ...]``;
- an object with an ``individuals`` array: ``{"individuals": [...]}`` (other keys ignored);
- JSON Lines (``.jsonl``/``.ndjson``): one individual per line;
- one individual: ``{"id": "Ind001", "sex": {...}}``.

Records are parsed one by one: memory holds one batch of records, never the whole file,
and a single record (or, for a lone individual, the file) may be at most
``limits.max_beacon_record_chars`` characters. A batch has one column, ``document``, with
each record as compact JSON text, and ``document_line``, the line its record starts on. Its
``rows`` are the records' 1-based numbers in the file (the array element, or the JSON Lines
record), which is what findings call the row. Broken JSON is a :class:`ReadError` naming
the record, line and column. The reader is chosen by name (the ``beacon`` profile asks
for it), never by sniffing: Beacon individuals look much like Phenopackets.

The reader limits hold as for every reader (:mod:`harmonize.readers.limits`): a record
whose compact JSON is over ``limits.max_json_bytes`` or nested deeper than
``limits.max_json_depth``, more records than ``limits.max_rows``, and more time than
``limits.max_read_seconds``. Bytes that are not UTF-8 and NUL characters (raw, or
``\\u0000`` escapes) are errors at their line and column, with the record and the field
within it (``phenotypicFeatures[0].featureType.label``, :mod:`harmonize.readers.json_text`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, TextIO

import orjson
import pyarrow as pa

from harmonize.errors import LimitExceeded, ReadError
from harmonize.readers.base import Reader, ReadOptions, SourceBatch, register
from harmonize.readers.formats.csv import check_options, file_label
from harmonize.readers.formats.phenopacket import JSON_HINT, LINES_SUFFIXES
from harmonize.readers.json_text import (
    BAD_CHAR,
    at_row,
    check_value,
    error,
    find,
    has_bad_byte,
    has_nul,
    refused,
)
from harmonize.readers.limits import Guard

CHUNK_CHARS = 1 << 20  # read this much text at a time
LIMIT = "max_beacon_record_chars"  # one individual (or a lone-individual file) at most
WRAPPER_KEY = "individuals"
_WS = re.compile(r"[ \t\n\r]*")
_NEAR_END = 8  # a value cut here by the chunk's end may just be incomplete (a \\u escape)
_SURROGATE = re.compile("[\udc80-\udcff]")  # a byte that is not UTF-8 (surrogateescape)
_ESCAPED_NUL = re.compile(r"(?<!\\)(?:\\\\)*(\\u0000)")


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_no_constants)
_LOOSE = json.JSONDecoder(strict=False)  # raw control characters: to find a raw NUL's field


class _Text:
    """A JSON text read in chunks: the unread part in ``buf`` from ``pos``, with line numbers.

    The file is decoded with ``surrogateescape``: a byte that is not UTF-8 is a lone
    surrogate. Every value parsed is scanned for those and for ``\\u0000`` escapes;
    ``suspect`` keeps where the first is until :meth:`check` looks at the record.
    """

    def __init__(self, fh: TextIO, label: str, guard: Guard) -> None:
        self.fh, self.label, self.guard = fh, label, guard
        self.limit = guard.limits.max_beacon_record_chars
        self.buf, self.pos, self.eof = "", 0, False
        self.line, self.column = 1, 0  # where buf[0] is: its line, its 0-based column
        self.start = 0  # where the value being parsed starts
        self.prefix: tuple[str, ...] = ()  # its path in its record (a lone individual's key)
        self.suspect: tuple[int, int, str] | None = None  # line, column, character

    def more(self) -> bool:
        """Read the next chunk, dropping what was consumed; False at the end of the file."""
        if self.eof:
            return False
        chunk = self.fh.read(CHUNK_CHARS)
        self.start -= self.pos
        newline = self.buf.rfind("\n", 0, self.pos)
        self.line += self.buf.count("\n", 0, self.pos)
        self.column = self.pos - newline - 1 if newline >= 0 else self.column + self.pos
        self.buf, self.pos = self.buf[self.pos :] + chunk, 0
        self.eof = not chunk
        return bool(chunk)

    def line_at(self, pos: int) -> int:
        return self.line + self.buf.count("\n", 0, pos)

    def where(self, pos: int) -> tuple[int, int]:
        """The line and 1-based column of ``buf[pos]``."""
        newline = self.buf.rfind("\n", 0, pos)
        return self.line_at(pos), pos - newline if newline >= 0 else self.column + pos + 1

    def scan(self, start: int, end: int) -> None:
        """Note the first byte that is not UTF-8 or ``\\u0000`` escape in ``buf[start:end]``."""
        if self.suspect is not None:
            return
        found = []
        if self.buf.find("\\u0000", start, end) >= 0:
            escape = _ESCAPED_NUL.search(self.buf, start, end)
            if escape:
                found.append((escape.start(1), "\x00"))
        if not self.buf.isascii():
            byte = _SURROGATE.search(self.buf, start, end)
            if byte:
                found.append((byte.start(), byte.group()))
        if found:
            pos, char = min(found)
            self.suspect = (*self.where(pos), char)

    def check(self, record: int, value: Any) -> None:
        """A byte that is not UTF-8 or a NUL in ``value``: an error at its place."""
        if self.suspect is None:
            return
        line, column, char = self.suspect
        self.suspect = None
        where = find(value, has_nul if char == "\x00" else has_bad_byte)
        if where is not None:
            raise error(self.label, char, line, column, record, where[0], where[1])

    def peek(self) -> str:
        """The next character that is not whitespace ("" at the end of the file)."""
        while True:
            match = _WS.match(self.buf, self.pos)
            self.pos = match.end() if match else self.pos
            if self.pos < len(self.buf) or not self.more():
                return self.buf[self.pos : self.pos + 1]

    def take(self, expected: str, record: int | None, what: str) -> None:
        found = self.peek()
        if found != expected:
            self.fail(f"expected {what}, found {_shown(found)}", self.pos, record)
        self.pos += 1

    def value(self, record: int | None) -> tuple[Any, int]:
        """The next JSON value and the line it starts on, parsed whole from the buffer.

        An error within :data:`_NEAR_END` characters of the buffer's end, or an unterminated
        string, may only mean that the chunk ended mid-value: then more is read and the
        value parsed again, up to ``limits.max_beacon_record_chars``.
        """
        self.peek()
        self.start = self.pos
        line = self.line_at(self.pos)
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as err:
                cut = err.pos >= len(self.buf) - _NEAR_END or err.msg.startswith("Unterminated")
                if self.eof or not cut:
                    self.fail(err.msg, err.pos, record)
            except (ValueError, RecursionError) as err:  # NaN, Infinity; absurd nesting
                self.fail(str(err), self.pos, record)
            else:
                if end < len(self.buf) or self.eof:
                    if end - self.pos > self.limit:  # whole in the buffer, and still too long
                        raise self._over(record, line, broken=False)
                    self.scan(self.pos, end)
                    self.pos = end
                    return value, line
            if len(self.buf) - self.pos > self.limit:
                raise self._over(record, line, broken=True)
            self.more()

    def _over(self, record: int | None, line: int, *, broken: bool) -> LimitExceeded:
        what = f"record {record}" if record is not None else "a value"
        message = f"{what} (line {line}) is over {self.limit:,} characters"
        if not broken:
            return self.guard.exceeded(message, LIMIT, row=record)
        return self.guard.exceeded(
            f"{message}, or its JSON is broken",
            LIMIT,
            row=record,
            hint="split the record, or check its brackets and quotes (or ask the data "
            f"centre to raise limits.{LIMIT}, HARMONIZE_LIMIT_{LIMIT.upper()})",
        )

    def fail(self, message: str, pos: int, record: int | None) -> None:
        line, column = self.where(pos)
        char = self.buf[pos : pos + 1]
        if char and BAD_CHAR.match(char):  # a raw NUL, or a byte that is not UTF-8
            found = None
            try:  # raw control characters allowed: the field holding it, if it is in one
                value, _ = _LOOSE.raw_decode(self.buf, max(self.start, 0))
            except (ValueError, RecursionError):
                pass
            else:
                found = find(value, has_nul if char == "\x00" else has_bad_byte)
            path, string = ((*self.prefix, *found[0]), found[1]) if found else (None, None)
            raise error(self.label, char, line, column, record, path, string)
        at = f"record {record}, " if record is not None else ""
        raise ReadError(
            f"invalid JSON at {at}line {line}, column {column}: {message}",
            file=self.label,
            row=record,
            hint=JSON_HINT,
        )


def _compact(value: Any, label: str, record: int | None) -> bytes:
    """``value`` as compact JSON; what orjson cannot write is a ReadError naming the record.

    The stdlib parser reads integers of any size, orjson writes 64 bits at most.
    """
    try:
        return orjson.dumps(value)
    except TypeError as err:  # "Integer exceeds 64-bit range", "Recursion limit reached"
        raise ReadError(
            f"record {record if record is not None else 1} cannot be kept as JSON: {err}",
            file=label,
            row=record if record is not None else 1,
            hint="write integers within 64 bits (or as strings), and nest values less deeply",
        ) from err


def _shown(char: str) -> str:
    return repr(char) if char else "the end of the file"


def _records(text: _Text) -> Iterator[tuple[int, int, Any]]:
    """``(record number, line, value)`` for every individual of a ``.json`` file."""
    first = text.peek()
    if first == "[":
        yield from _array(text)
    elif first == "{":
        yield from _object(text)
    else:
        text.fail(
            f"expected an array or an object of individuals, found {_shown(first)}", text.pos, None
        )
    if text.peek():
        text.fail("unexpected data after the individuals", text.pos, None)


def _array(text: _Text) -> Iterator[tuple[int, int, Any]]:
    text.take("[", None, "'['")
    if text.peek() == "]":
        text.pos += 1
        return
    record = 0
    while True:
        record += 1
        text.suspect = None  # what came before the record is not in it
        value, line = text.value(record)
        text.check(record, value)
        yield record, line, value
        after = text.peek()
        if after == "]":
            text.pos += 1
            return
        text.take(",", record + 1, "',' or ']' after a record")


def _object(text: _Text) -> Iterator[tuple[int, int, Any]]:
    """An ``{"individuals": [...]}`` wrapper streams its array; any other object is one record."""
    text.take("{", None, "'{'")
    start = text.line_at(text.pos)
    kept: dict[str, Any] = {}
    size, first, wrapped = 0, True, False
    while text.peek() != "}":
        if not first:
            text.take(",", None, "',' or '}'")
        first = False
        key, _ = text.value(None)
        if not isinstance(key, str):
            text.fail("expected a key in double quotes", text.pos, None)
        text.take(":", None, "':' after a key")
        if key == WRAPPER_KEY:
            if text.peek() != "[":
                text.fail(f"'{WRAPPER_KEY}' must be an array of individuals", text.pos, None)
            wrapped = True
            yield from _array(text)
            continue
        text.prefix = () if wrapped else (key,)
        value, _ = text.value(None if wrapped else 1)
        text.prefix = ()
        if not wrapped:  # maybe a lone individual: bounded by the limit of one record
            text.check(1, {key: value})
            size += len(_compact(value, text.label, 1))
            if size > text.limit:
                raise text.guard.exceeded(
                    f"the object is over {text.limit:,} characters and has no "
                    f"'{WRAPPER_KEY}' array",
                    LIMIT,
                    hint=f'put the individuals in an array, or in {{"{WRAPPER_KEY}": [...]}}',
                )
            kept[key] = value
    text.pos += 1
    if not wrapped:
        yield 1, start, kept


def _lines(path: Path, label: str, guard: Guard) -> Iterator[tuple[int, int, Any]]:
    """``(record number, line, value)`` for every non-blank line of a JSON Lines file."""
    record = 0
    limit = guard.limits.max_beacon_record_chars
    with path.open("r", encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
        # at most one character past the limit per read, so a line without end stops there
        for number, line in enumerate(_checked(fh, label, limit + 2), start=1):
            if not line.strip():
                continue
            record += 1
            if len(line) > limit:
                raise guard.exceeded(
                    f"record {record} (line {number}) is over {limit:,} characters",
                    LIMIT,
                    row=record,
                )
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError as err:
                bad = refused(line, label, row_of=at_row(record), first_line=number)
                raise bad or ReadError(
                    f"invalid JSON at record {record}, line {number}, column {err.colno}: "
                    f"{err.msg}",
                    file=label,
                    row=record,
                    hint=JSON_HINT,
                ) from err
            check_value(value, line, label, row_of=at_row(record), first_line=number)
            yield record, number, value


def _checked(fh: TextIO, label: str, longest: int) -> Iterator[str]:
    """The file's lines, each cut at ``longest`` characters (the rest is the next "line")."""
    while line := fh.readline(longest):
        yield line


def _batch(label: str, records: list[tuple[int, int, Any]], guard: Guard) -> SourceBatch:
    documents = []
    for record, line, value in records:
        if not isinstance(value, dict):
            kind = type(value).__name__ if value is not None else "null"
            raise ReadError(
                f"record {record} (line {line}) is a {kind}, not an individual (a JSON object)",
                file=label,
                row=record,
                hint="every individual must be a JSON object {...}",
            )
        document = _compact(value, label, record).decode()
        guard.json_bytes(len(document), row=record, what=f"record {record} (line {line})")
        documents.append(document)
    table = pa.table(
        {
            "document": pa.array(documents, pa.string()),
            "document_line": pa.array([str(line) for _, line, _ in records], pa.string()),
        }
    )
    rows = pa.array([record for record, _, _ in records], pa.int64())
    return SourceBatch(file=label, table=table, rows=rows, headers=[["document", "document_line"]])


@register
class BeaconReader(Reader):
    """Beacon v2 individuals: a JSON array, ``{"individuals": [...]}``, or JSON Lines."""

    name = "beacon"
    extensions: ClassVar[tuple[str, ...]] = (".json", *LINES_SUFFIXES)

    @classmethod
    def can_read(cls, path: Path, head: bytes) -> bool:
        return False  # chosen by name only: see the module docstring

    def batches(self, path: Path, options: ReadOptions, guard: Guard) -> Iterator[SourceBatch]:
        check_options(options)
        label = file_label(path, options)
        if path.suffix.lower() in LINES_SUFFIXES:
            records = _lines(path, label, guard)
        else:
            records = self._document(path, label, guard)
        batch: list[tuple[int, int, Any]] = []
        seen = False
        for item in records:
            record, _, value = item
            guard.row(record)
            if record % 64 == 1:
                guard.tick()
            guard.json_depth(value, row=record)
            batch.append(item)
            seen = True
            if len(batch) == options.batch_size:
                yield _batch(label, batch, guard)
                batch = []
        if batch:
            yield _batch(label, batch, guard)
        if not seen:
            raise ReadError("no individuals in the file", file=label, hint="add individuals")

    def _document(self, path: Path, label: str, guard: Guard) -> Iterator[tuple[int, int, Any]]:
        with path.open("r", encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
            text = _Text(fh, label, guard)
            if not text.peek():
                raise ReadError("file is empty", file=label, hint="submit the individuals as JSON")
            yield from _records(text)
