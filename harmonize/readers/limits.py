"""Reader limits at work: a time budget per file and the checks every reader shares.

A :class:`Guard` is made for each file a reader reads, from :class:`ReadOptions.limits
<harmonize.readers.base.ReadOptions>`. Readers call it as they go: :meth:`Guard.tick` in
every loop (the time budget), :meth:`Guard.row` and :meth:`Guard.width` as rows and
columns appear, :meth:`Guard.cells` on every table they hand out. Each check raises
:class:`~harmonize.errors.LimitExceeded` naming the file, where it is, and the limit.

The budget counts the reader's own time only: :meth:`Guard.running` brackets the reader's
work, so the time a consumer spends on a batch between two ``next()`` calls is not counted.

>>> from harmonize.settings import Limits
>>> guard = Guard(Limits(max_rows=3), "cases.csv")
>>> guard.row(3)
>>> try:
...     guard.row(4)
... except LimitExceeded as exc:
...     print(exc.limit, "-", exc.message)
max_rows - the file has more than 3 rows (limits.max_rows)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from harmonize.errors import LimitExceeded
from harmonize.settings import Limits


def column_letter(index: int) -> str:
    """A 0-based column index as a spreadsheet column letter.

    >>> column_letter(0), column_letter(25), column_letter(26), column_letter(16383)
    ('A', 'Z', 'AA', 'XFD')
    """
    letters = ""
    number = index + 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class Guard:
    """The limits of one file being read, and the time its reader has spent on it."""

    def __init__(
        self,
        limits: Limits,
        label: str,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits
        self.label = label
        self.sheet: str | None = None
        self._clock = clock
        self._spent = 0.0
        self._since: float | None = None

    # ------------------------------------------------------------------ time budget
    @contextmanager
    def running(self) -> Iterator[None]:
        """Count the time spent inside this block against the budget."""
        self._since = self._clock()
        try:
            yield
        finally:
            self._spent += self._clock() - self._since
            self._since = None

    @property
    def spent(self) -> float:
        running = self._clock() - self._since if self._since is not None else 0.0
        return self._spent + running

    def tick(self) -> None:
        """Raise once the reader has spent more than ``max_read_seconds`` on the file."""
        if self.spent > self.limits.max_read_seconds:
            raise self.exceeded(
                f"reading the file took more than {self.limits.max_read_seconds:g} s",
                "max_read_seconds",
            )

    # ------------------------------------------------------------------ shape
    def row(self, number: int) -> None:
        """A row's 1-based number in the file (headers and blank rows count)."""
        if number > self.limits.max_rows:
            raise self.exceeded(
                f"the file has more than {self.limits.max_rows:,} rows", "max_rows", row=number
            )

    def width(self, columns: int, row: int | None = None) -> None:
        if columns > self.limits.max_columns:
            raise self.exceeded(
                f"the file has {columns:,} columns, more than {self.limits.max_columns:,}",
                "max_columns",
                row=row,
            )

    def files(self, count: int) -> None:
        if count > self.limits.max_files:
            raise self.exceeded(
                f"{count:,} files, more than {self.limits.max_files:,}", "max_files"
            )

    # ------------------------------------------------------------------ cells
    def text(self, value: str | None, *, row: int | None = None, column: str | None = None) -> None:
        """One cell (or header) value, checked in Python."""
        if value is not None and len(value) > self.limits.max_cell_chars:
            raise self._long_cell(len(value), row, column)

    def cells(self, table: pa.Table, rows: pa.Array) -> None:
        """Every cell of a table of strings; ``rows`` holds each row's number in the file."""
        limit = self.limits.max_cell_chars
        for name, column in zip(table.column_names, table.columns, strict=True):
            if column.nbytes <= limit:  # fewer bytes than the limit: no cell can be longer
                continue
            lengths = pc.binary_length(column)
            longest = pc.max(lengths).as_py()
            if longest is None or longest <= limit:
                continue
            # bytes over the limit; characters (what the limit counts) may still be fewer
            chars = pc.utf8_length(column)
            over = pc.greater(chars, limit)
            if not pc.any(over).as_py():
                continue
            index = pc.index(over, True).as_py()
            raise self._long_cell(chars[index].as_py(), rows[index].as_py(), name)

    def _long_cell(self, length: int, row: int | None, column: str | None) -> LimitExceeded:
        return self.exceeded(
            f"a cell holds {length:,} characters, more than {self.limits.max_cell_chars:,}",
            "max_cell_chars",
            row=row,
            column=column,
        )

    # ------------------------------------------------------------------ JSON
    def json_bytes(
        self,
        size: int,
        *,
        file: str | None = None,
        row: int | None = None,
        what: str | None = None,
    ) -> None:
        """A JSON document's size; ``what`` names it (default: a JSON line, the document)."""
        if size > self.limits.max_json_bytes:
            what = what or ("a JSON line" if row is not None else "the JSON document")
            raise self.exceeded(
                f"{what} is {size:,} bytes, more than {self.limits.max_json_bytes:,}",
                "max_json_bytes",
                file=file,
                row=row,
            )

    def json_depth(self, value: Any, *, file: str | None = None, row: int | None = None) -> None:
        """Arrays and objects nested deeper than ``max_json_depth``."""
        depth = json_depth(value, self.limits.max_json_depth)
        if depth > self.limits.max_json_depth:
            raise self.exceeded(
                f"JSON nested more than {self.limits.max_json_depth} levels deep",
                "max_json_depth",
                file=file,
                row=row,
            )

    # ------------------------------------------------------------------
    def exceeded(self, message: str, limit: str, **where: Any) -> LimitExceeded:
        where.setdefault("sheet", self.sheet)
        if where.get("file") is None:
            where["file"] = self.label
        return LimitExceeded(f"{message} (limits.{limit})", limit=limit, **where)


def json_depth(value: Any, stop: int) -> int:
    """How deeply arrays and objects nest in a parsed JSON value; stops counting past ``stop``.

    A scalar is depth 0, ``[]`` and ``{}`` depth 1.

    >>> json_depth(3, 10), json_depth([], 10), json_depth({"a": [1, {"b": "c"}]}, 10)
    (0, 1, 3)
    >>> json_depth([[[[[]]]]], 2)
    3
    """
    if not isinstance(value, dict | list):
        return 0
    deepest = 1
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > deepest:
                    deepest = depth + 1
                    if deepest > stop:
                        return deepest
                stack.append((child, depth + 1))
    return deepest
