"""Ambiguous headers: duplicate columns that hold values, and a header row inside the data.

Two columns are duplicates when their names (the first header row, which profiles look
columns up by) are the same, ignoring case and surrounding spaces; blank names never are
(they become ``column_N``). A duplicate is ambiguous once more than one of its columns holds
a value: a mapping that names the column would silently take one and drop the other. A
duplicate left wholly empty is harmless and kept (as ``name#2``): templates often repeat a
column nobody filled in.

A data row whose cells are all names from the first header row (at least half the columns
filled) is the header again: files joined together, or a second table below the first.
Whether it repeats the header or differs from it, the rows below it would be read under the
wrong names, so it is rejected.

>>> checks = HeaderChecks([["id", "sex", "Sex"]], ["id", "sex", "Sex"], "cases.csv")
>>> table = pa.table({"id": ["P1", "P2"], "sex": ["F", None], "Sex": [None, "M"]})
>>> try:
...     checks.check(table, pa.array([2, 3]))
... except ReadError as exc:
...     print(exc.row, exc.column, "-", exc.message)
3 Sex - columns B ('sex') and C ('Sex') have the same header and both hold values
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from harmonize.errors import ReadError
from harmonize.readers.limits import column_letter

DUPLICATE_HINT = "remove or rename one of the columns, so that each header names one column"
REPEATED_HINT = "submit one table per file, with one header at the top (were files joined?)"


class HeaderChecks:
    """The header checks of one file, applied to each of its batches in turn.

    ``letters`` says whether to name columns by spreadsheet letter too (not for JSON keys).
    ``repeated`` turns on the search for the header inside the data.
    """

    def __init__(
        self,
        headers: list[list[str | None]],
        names: list[str],
        label: str,
        sheet: str | None = None,
        *,
        letters: bool = True,
        repeated: bool = True,
    ) -> None:
        self.names = names
        self.label = label
        self.sheet = sheet
        self.letters = letters
        groups: dict[str, list[int]] = {}
        first = headers[0] if headers else []
        for index, cell in enumerate(first[: len(names)]):
            key = (cell or "").strip().casefold()
            if key:
                groups.setdefault(key, []).append(index)
        self.groups = [group for group in groups.values() if len(group) > 1]
        self.filled: dict[int, int] = {}  # column -> first row number holding a value
        self.header = [cell.strip() if cell else None for cell in first]
        self.header_set = {cell for cell in self.header if cell}
        self.probe = next((i for i, cell in enumerate(self.header) if cell), None)
        if len(self.header_set) < 2 or not repeated:
            self.probe = None

    def check(self, table: pa.Table, rows: pa.Array) -> None:
        if self.groups:
            self._duplicates(table, rows)
        if self.probe is not None:
            self._repeated(table, rows)

    def _name(self, index: int) -> str:
        """A column as the submitter finds it: its letter and header, or its JSON key."""
        header = self.header[index] if index < len(self.header) else None
        name = repr(header or self.names[index])
        return f"{column_letter(index)} ({name})" if self.letters else name

    def _duplicates(self, table: pa.Table, rows: pa.Array) -> None:
        for group in self.groups:
            for index in group:
                if index in self.filled or index >= table.num_columns:
                    continue
                column = table.column(index)
                if column.null_count < len(column):
                    at = pc.index(pc.is_valid(column), True).as_py()
                    self.filled[index] = int(rows[at].as_py())
            holding = sorted((self.filled[i], i) for i in group if i in self.filled)
            if len(holding) < 2:
                continue
            (_, first), (row, second) = holding[0], holding[1]
            low, high = sorted((first, second))
            what = "columns" if self.letters else "keys"
            raise ReadError(
                f"{what} {self._name(low)} and {self._name(high)} "
                "have the same header and both hold values",
                file=self.label,
                sheet=self.sheet,
                row=row,
                column=self.header[second] or self.names[second],
                hint=DUPLICATE_HINT,
            )

    def _repeated(self, table: pa.Table, rows: pa.Array) -> None:
        assert self.probe is not None
        if self.probe >= table.num_columns:
            return
        probe = table.column(self.probe)
        hits = pc.is_in(pc.utf8_trim_whitespace(probe), value_set=pa.array(sorted(self.header_set)))
        if not pc.any(hits).as_py():
            return
        width = table.num_columns
        for index in pc.indices_nonzero(pc.fill_null(hits, False)).to_pylist():
            cells = [
                value.strip() if isinstance(value, str) else None
                for value in table.slice(index, 1).to_pylist()[0].values()
            ]
            filled = [cell for cell in cells if cell]
            if len(filled) < max(2, (width + 1) // 2) or not set(filled) <= self.header_set:
                continue
            row = int(rows[index].as_py())
            differs = next(
                (i for i in range(width) if (self.header + [None] * width)[i] != cells[i]), None
            )
            if differs is None:
                message = f"row {row} repeats the header"
            else:
                message = (
                    f"row {row} is a header that differs from the file's: column "
                    f"{self._name(differs)} is {cells[differs]!r} there"
                )
            raise ReadError(
                message,
                file=self.label,
                sheet=self.sheet,
                row=row,
                column=self.names[differs] if differs is not None else None,
                hint=REPEATED_HINT,
            )
