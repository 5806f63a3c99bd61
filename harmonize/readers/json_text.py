"""NUL characters and bytes that are not UTF-8 in JSON text, at their line, column and field.

The JSON readers (``json``, ``phenopacket``, ``fhir``, ``beacon``) refuse both, as the CSV
reader does (:mod:`harmonize.readers.encoding`), so that neither reaches a table or a
Phenopacket:

- **bytes that are not UTF-8** are a :class:`~harmonize.errors.ReadError` at the line and
  character column (1-based) of the first bad byte, naming the byte;
- **a NUL character**, whether a raw byte or a ``\\u0000`` escape in a string or a key, is
  one at its line and column too.

Each names the record it is in as the row when it is known (an array element, a JSON Lines
line, a Bundle entry, a Beacon individual) and, as the column, the field path of the string
that holds it within the record, written as the other findings write fields
(``phenotypicFeatures[0].type.label``; a FHIR reader's starts at ``Bundle.entry[3].resource``). The value shows the string with the bad
bytes and NULs written out (``\\xNN``). Valid text costs a substring search: the JSON is
walked only when a ``\\u0000`` appears in it, and a parser's refusal is explained only once
it has happened.

>>> err = refused(b'{"id": "p1", "name": "Ren\\xe9e"}', "p.json", row_of=whole)
>>> print(err)
p.json, row 1, column 'name': text is not valid UTF-8 at line 1, column 26 (byte 0xE9). save the file as UTF-8 (or name its encoding in the submission profile)
>>> check_value({"id": "a\\x00b"}, b'{"id": "a\\\\u0000b"}', "p.json", row_of=whole)
Traceback (most recent call last):
...
harmonize.errors.ReadError: p.json, row 1, column 'id': a NUL character is not text, at line 1, column 10. remove the NUL characters (a \\u0000 escape is one too)
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from harmonize.errors import ReadError
from harmonize.readers.encoding import UTF8_HINT, shown

NUL_MESSAGE = "a NUL character is not text"
NUL_HINT = "remove the NUL characters (a \\u0000 escape is one too)"
UTF8_MESSAGE = "text is not valid UTF-8"
SHOWN_CHARS = 200  # of the string holding a bad character, in the finding's value

Path = tuple[str | int, ...]
# the row of the record a path (from the parsed document's root) is in, and the path
# within that record; the value is the whole parsed document (None when it did not parse)
RowOf = Callable[[Any, Path], tuple[int | None, Path]]

BAD_CHAR = re.compile("[\x00\udc80-\udcff]")  # a raw NUL, or a byte kept by surrogateescape
_SURROGATE = re.compile("[\udc80-\udcff]")
_ESCAPED_NUL = re.compile(r"(?<!\\)(?:\\\\)*(\\u0000)")
_LOOSE = json.JSONDecoder(strict=False)  # reads raw control characters, to find the field


def whole(value: Any, path: Path) -> tuple[int | None, Path]:
    """The document is one record, row 1."""
    return 1, path


def at_row(row: int | None) -> RowOf:
    """The document is one record, at ``row`` (a JSON Lines line, a Beacon individual)."""
    return lambda value, path: (row, path)


def elements(value: Any, path: Path) -> tuple[int | None, Path]:
    """A JSON file: an array's elements are rows 1, 2, ...; an object is row 1.

    >>> elements([{}, {"a": 1}], (1, "a")), elements({"a": 1}, ("a",)), elements(None, ())
    ((2, ('a',)), (1, ('a',)), (None, ()))
    """
    if isinstance(value, list):
        if path and isinstance(path[0], int):
            return path[0] + 1, path[1:]
        return None, path
    return (1, path) if isinstance(value, dict) else (None, path)


def field_path(path: Path) -> str:
    """A field's path as findings write it; NULs and bad bytes in keys written out.

    >>> field_path(("phenotypicFeatures", 0, "type", "id")), field_path((2, "a\\x00"))
    ('phenotypicFeatures[0].type.id', '[2].a\\\\x00')
    """
    text = "".join(f"[{p}]" if isinstance(p, int) else f".{shown(p)}" for p in path)
    return text.removeprefix(".")


def has_nul(text: str) -> bool:
    return "\x00" in text


def has_bad_byte(text: str) -> bool:
    return _SURROGATE.search(text) is not None


def find(value: Any, bad: Callable[[str], bool]) -> tuple[Path, str] | None:
    """The first string (a key or a value, in document order) ``bad`` says yes to.

    A key's path is its member's.

    >>> find({"a": ["x", "y\\x00"], "b\\x00": 1}, has_nul)
    (('a', 1), 'y\\x00')
    >>> find({"a": 1, "b\\x00": 2}, has_nul)
    (('b\\x00',), 'b\\x00')
    """
    stack: list[tuple[Path, Any, bool]] = [((), value, False)]
    while stack:
        path, node, is_key = stack.pop()
        if isinstance(node, str):
            if bad(node):
                return path, node
        elif not is_key and isinstance(node, dict):
            for key, child in reversed(node.items()):
                stack.append(((*path, key), child, False))
                stack.append(((*path, key), key, True))
        elif not is_key and isinstance(node, list):
            stack.extend(((*path, i), node[i], False) for i in range(len(node) - 1, -1, -1))
    return None


def line_column(text: str, pos: int, first_line: int = 1) -> tuple[int, int]:
    """The line and 1-based character column of ``text[pos]``.

    >>> line_column('{\\n  "a": 1}', 4)
    (2, 3)
    """
    start = text.rfind("\n", 0, pos) + 1
    return first_line + text.count("\n", 0, pos), pos - start + 1


def error(
    label: str,
    char: str,
    line: int | None,
    column: int | None,
    row: int | None,
    path: Path | None,
    string: str | None,
) -> ReadError:
    """The error for a bad character ``char`` (a NUL, or a surrogate for a byte)."""
    at = f" at line {line}, column {column}" if line is not None else ""
    if char == "\x00":
        message, hint = NUL_MESSAGE + ("," + at if at else ""), NUL_HINT
    else:
        message = f"{UTF8_MESSAGE}{at} (byte 0x{ord(char) - 0xDC00:02X})"
        hint = UTF8_HINT
    value = None
    if string is not None:
        value = shown(string[:SHOWN_CHARS]) + ("..." if len(string) > SHOWN_CHARS else "")
    return ReadError(
        message,
        file=label,
        row=row,
        column=field_path(path) if path else None,
        value=value,
        hint=hint,
    )


def refused(
    data: bytes | str, label: str, *, row_of: RowOf, first_line: int = 1
) -> ReadError | None:
    """Why a parser refused ``data``: a raw NUL or bytes that are not UTF-8, or ``None``.

    ``data`` is the JSON as read (``str`` with bad bytes kept by ``surrogateescape``). The
    first bad character decides; the field is the string it is in when the text parses
    leniently (raw control characters, lone surrogates allowed).
    """
    text = data.decode("utf-8", "surrogateescape") if isinstance(data, bytes) else data
    found = BAD_CHAR.search(text)
    if found is None:
        return None
    char = found.group()
    line, column = line_column(text, found.start(), first_line)
    try:
        value = _LOOSE.decode(text.removeprefix("\ufeff"))
    except (ValueError, RecursionError):
        row, _ = row_of(None, ())
        return error(label, char, line, column, row, None, None)
    where = find(value, has_nul if char == "\x00" else has_bad_byte)
    if where is None:  # between the tokens: no field holds it
        row, _ = row_of(value, ())
        return error(label, char, line, column, row, None, None)
    row, inner = row_of(value, where[0])
    return error(label, char, line, column, row, inner, where[1])


def check_value(
    value: Any, data: bytes | str, label: str, *, row_of: RowOf, first_line: int = 1
) -> None:
    """After a parse: a NUL written as ``\\u0000`` in a string or a key is a ReadError."""
    escaped = b"\\u0000" in data if isinstance(data, bytes) else "\\u0000" in data
    if not escaped:
        return
    where = find(value, has_nul)
    if where is None:  # an escaped backslash before "u0000"
        return
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    escape = _ESCAPED_NUL.search(text)
    line, column = line_column(text, escape.start(1), first_line) if escape else (None, None)
    row, inner = row_of(value, where[0])
    raise error(label, "\x00", line, column, row, inner, where[1])
