"""Excel workbooks (``.xlsx``/``.xlsm``): one sheet, streamed row by row with openpyxl.

The sheet is :attr:`ReadOptions.sheet` or the first worksheet. Cached cell values are read
(``data_only``: formulas give their last computed result) and turned into the text a
submitter sees: whole numbers without ``.0``, dates as ISO ``YYYY-MM-DD`` (date-times with a
time as ISO date-times), booleans as ``TRUE``/``FALSE``, empty cells as null. Columns end at
the last non-empty header cell; fully empty rows are dropped (their numbers are skipped, so
every row keeps the number Excel shows for it).

Bounded (:mod:`harmonize.readers.archive`): the zip's directory is checked against the
limits before openpyxl opens anything (openpyxl loads the shared strings whole), and every
member counts what it inflates to as it streams. Ambiguous workbooks are refused: a sheet
whose name (as Excel compares names, ignoring case) another sheet also has, duplicate
columns that hold values, a header repeated inside the data
(:mod:`harmonize.readers.headers`).
"""

from __future__ import annotations

import datetime as dt
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
from openpyxl.reader.excel import ExcelReader
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet._reader import WorkSheetParser

from harmonize.errors import ReadError
from harmonize.readers.archive import BoundedArchive, open_archive
from harmonize.readers.base import Reader, ReadOptions, SourceBatch, register
from harmonize.readers.formats.csv import check_options, column_names, file_label
from harmonize.readers.headers import HeaderChecks
from harmonize.readers.limits import Guard

DAMAGED_HINT = "the file is damaged or not an Excel workbook; re-export it"
# What openpyxl and the zip/XML layers raise on a truncated or corrupt workbook.
DAMAGED = (
    zipfile.BadZipFile,
    zlib.error,
    InvalidFileException,
    LookupError,  # KeyError, IndexError, and an XML declaration naming an unknown encoding
    ValueError,
    TypeError,
    EOFError,
    OSError,
    SyntaxError,  # xml.etree.ElementTree.ParseError and lxml's XMLSyntaxError
)
MAX_EXACT_FLOAT = 2**53


def cell_text(value: Any) -> str | None:
    """A cell value as the text shown in the sheet.

    >>> [cell_text(v) for v in (None, "", "x", 3, 3.0, 2.5, True, dt.date(2024, 1, 2))]
    [None, None, 'x', '3', '3', '2.5', 'TRUE', '2024-01-02']
    >>> cell_text(dt.datetime(2024, 1, 2)), cell_text(dt.datetime(2024, 1, 2, 13, 5))
    ('2024-01-02', '2024-01-02T13:05:00')
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < MAX_EXACT_FLOAT:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _extent(cells: list[str | None]) -> int:
    """How many cells up to and including the last non-null one."""
    for index in range(len(cells) - 1, -1, -1):
        if cells[index] is not None:
            return index + 1
    return 0


class _Sheet:
    """One open sheet: the label and name errors use, and its rows with damage made ReadErrors."""

    def __init__(self, label: str, worksheet: Any, guard: Guard) -> None:
        self.label = label
        self.name = str(worksheet.title)
        self.worksheet = worksheet
        self.guard = guard
        guard.sheet = self.name

    def damaged(self, err: BaseException) -> ReadError:
        return ReadError(
            f"cannot read the workbook ({type(err).__name__}: {err})",
            file=self.label,
            sheet=self.name,
            hint=DAMAGED_HINT,
        )

    def rows(self, header_rows: int) -> Iterator[tuple[int, list[str | None]]]:
        """``(row number, cell texts)`` for each row the sheet holds.

        Rows numbered again (or backwards) are dropped, as openpyxl drops them. Of the
        empty rows a gap in the numbering stands for, only those the header may need
        are yielded (data rows that are empty are skipped anyway), so a row numbered two
        billion costs nothing: it is over ``limits.max_rows`` at once.
        """
        guard = self.guard
        try:
            values = iter(self.worksheet.numbered_rows())
        except DAMAGED as err:
            raise self.damaged(err) from err
        expected = 1
        while True:
            try:
                number, raw = next(values)
            except StopIteration:
                return
            except DAMAGED as err:
                raise self.damaged(err) from err
            if number < expected:
                continue
            guard.row(number)
            for gap in range(expected, min(number, header_rows + 1)):
                yield gap, []
            expected = number + 1
            guard.width(len(raw), row=number)
            if number % 64 == 0:
                guard.tick()
            yield number, [cell_text(value) for value in raw]


class _BoundedExcelReader(ExcelReader):  # type: ignore[misc]
    """openpyxl's reader, on an archive that is already open and bounded.

    ``ExcelReader.__init__`` opens the file itself; this sets the same attributes on the
    archive :func:`~harmonize.readers.archive.open_archive` checked (read-only, cached
    values, external links skipped: they hold cached copies of other workbooks).
    """

    def __init__(self, archive: BoundedArchive) -> None:  # super().__init__ opens the file
        self.archive = archive
        self.valid_files = archive.namelist()
        self.read_only = True
        self.keep_vba = False
        self.data_only = True
        self.keep_links = False
        self.rich_text = False
        self.shared_strings: list[Any] = []

    def read_worksheets(self) -> None:
        """Worksheets that open without parsing their XML (chartsheets are left out).

        openpyxl parses each sheet at open to find its stored size, and the whole sheet when
        it has none: minutes for a large sheet, for every sheet of the workbook. The reader
        ignores stored sizes anyway (``reset_dimensions``).
        """
        for sheet, rel in self.parser.find_sheets():
            if rel.target not in self.valid_files or "chartsheet" in rel.Type:
                continue
            worksheet = _UnsizedSheet(self.wb, sheet.name, rel.target, self.shared_strings)
            worksheet.sheet_state = sheet.state
            self.wb._sheets.append(worksheet)


class _UnsizedSheet(ReadOnlyWorksheet):  # type: ignore[misc]
    """A read-only sheet whose stored size is not read when it is opened."""

    def _get_size(self) -> None:
        return None

    def numbered_rows(self) -> Iterator[tuple[int, tuple[Any, ...]]]:
        """``(row number, values)`` for each row the sheet's XML holds, in XML order.

        openpyxl's ``iter_rows`` fills every gap with empty rows: a 300-byte sheet with
        ``<row r="2000000000">`` made it yield two billion of them. This is its
        ``_cells_by_row`` without the filling; the caller numbers the gaps itself.
        """
        with self._get_source() as source:
            parser = WorkSheetParser(
                source,
                self._shared_strings,
                data_only=self.parent.data_only,
                epoch=self.parent.epoch,
                date_formats=self.parent._date_formats,
                timedelta_formats=self.parent._timedelta_formats,
            )
            for number, cells in parser.parse():
                yield number, self._get_row(cells, 1, None, values_only=True)


def _load(path: Path, label: str, guard: Guard) -> tuple[Any, list[str]]:
    """The workbook (read-only) and its sheet names as written, duplicates included."""
    try:
        archive = open_archive(path, guard)
    except DAMAGED as err:
        raise ReadError(
            f"cannot open the workbook ({type(err).__name__}: {err})",
            file=label,
            hint=DAMAGED_HINT,
        ) from err
    try:
        reader = _BoundedExcelReader(archive)
        reader.read()
    except BaseException as err:
        archive.close()
        if isinstance(err, DAMAGED):
            raise ReadError(
                f"cannot open the workbook ({type(err).__name__}: {err})",
                file=label,
                hint=DAMAGED_HINT,
            ) from err
        raise
    # openpyxl renames a repeated sheet name ("Data" -> "Data1"); the parser keeps them
    return reader.wb, [str(sheet.name) for sheet in reader.parser.sheets]


def _open_sheet(path: Path, options: ReadOptions, label: str, guard: Guard) -> tuple[Any, _Sheet]:
    workbook, written = _load(path, label, guard)
    try:
        titles = [str(sheet.title) for sheet in workbook.worksheets]
        if options.sheet is None:
            if not titles:
                raise ReadError("the workbook has no worksheets", file=label, hint=DAMAGED_HINT)
            wanted = titles[0]
        else:
            if options.sheet not in written:
                raise ReadError(
                    f"no sheet named {options.sheet!r}",
                    file=label,
                    sheet=options.sheet,
                    hint=f"the workbook's sheets are {titles}; name one of them",
                )
            wanted = options.sheet
        same = [name for name in written if name.casefold() == wanted.casefold()]
        if len(same) > 1:
            raise ReadError(
                f"{len(same)} sheets are named {wanted!r} ({', '.join(map(repr, same))}; "
                "Excel does not tell names apart by case)",
                file=label,
                sheet=wanted,
                hint="give each sheet its own name",
            )
        if wanted not in titles:  # listed in the workbook, but a chart sheet or missing
            raise ReadError(
                f"sheet {wanted!r} is not a worksheet (a chart sheet, or its part is missing)",
                file=label,
                sheet=wanted,
                hint=DAMAGED_HINT,
            )
        worksheet = workbook[wanted]
    except BaseException:
        workbook.close()
        raise
    return workbook, _Sheet(label, worksheet, guard)


@register
class XLSXReader(Reader):
    """Excel 2007+ workbooks, one sheet per read."""

    name = "xlsx"
    extensions = (".xlsx", ".xlsm")

    def batches(self, path: Path, options: ReadOptions, guard: Guard) -> Iterator[SourceBatch]:
        check_options(options)
        label = file_label(path, options)
        workbook, sheet = _open_sheet(path, options, label, guard)
        try:
            yield from self._read_sheet(sheet, options)
        finally:
            workbook.close()

    def _read_sheet(self, sheet: _Sheet, options: ReadOptions) -> Iterator[SourceBatch]:
        header_rows = options.header_rows
        headers: list[list[str | None]] = []
        names: list[str] | None = None
        checks = HeaderChecks([], [], sheet.label, sheet.name)
        width = 0
        pending: list[tuple[int, list[str | None]]] = []
        emitted = 0
        seen_any = False
        for number, cells in sheet.rows(header_rows):
            extent = _extent(cells)
            seen_any = seen_any or extent > 0
            if len(headers) < header_rows:
                for index, cell in enumerate(cells):
                    sheet.guard.text(cell, row=number, column=get_column_letter(index + 1))
                headers.append(cells)
                if len(headers) == header_rows:
                    width = max(_extent(header) for header in headers)
                    if width == 0:
                        raise self._blank_headers(sheet, seen_any)
                    headers = [(header + [None] * width)[:width] for header in headers]
                    names = column_names(headers[0], width)
                    checks = HeaderChecks(headers, names, sheet.label, sheet.name)
                continue
            if extent == 0:
                continue
            if names is not None and extent > width:
                raise ReadError(
                    f"value {cells[extent - 1]!r} is outside the table: its column has no header",
                    file=sheet.label,
                    sheet=sheet.name,
                    row=number,
                    column=get_column_letter(extent),
                    hint="give the column a header or delete the stray value",
                )
            pending.append((number, cells))
            if len(pending) == options.batch_size:
                if names is None:  # no header rows: the first batch decides the width
                    width = max(_extent(cells) for _, cells in pending)
                    names = column_names([], width)
                yield self._checked(sheet, checks, names, headers, width, pending)
                emitted += len(pending)
                pending = []
        if pending:
            if names is None:
                width = max(_extent(cells) for _, cells in pending)
                names = column_names([], width)
            yield self._checked(sheet, checks, names, headers, width, pending)
            emitted += len(pending)
        if emitted == 0:
            if not seen_any:
                raise ReadError(
                    "file is empty",
                    file=sheet.label,
                    sheet=sheet.name,
                    hint="the sheet has no cells; submit a sheet with a header row and data",
                )
            raise ReadError(
                "no data rows",
                file=sheet.label,
                sheet=sheet.name,
                hint=f"the sheet has only its {header_rows} header row(s); add data rows below",
            )

    def _checked(
        self,
        sheet: _Sheet,
        checks: HeaderChecks,
        names: list[str],
        headers: list[list[str | None]],
        width: int,
        pending: list[tuple[int, list[str | None]]],
    ) -> SourceBatch:
        batch = self._batch(sheet, names, headers, width, pending)
        sheet.guard.cells(batch.table, batch.rows)
        checks.check(batch.table, batch.rows)
        return batch

    @staticmethod
    def _blank_headers(sheet: _Sheet, seen_any: bool) -> ReadError:
        if not seen_any and not any(_extent(cells) for _, cells in sheet.rows(0)):
            return ReadError(
                "file is empty",
                file=sheet.label,
                sheet=sheet.name,
                hint="the sheet has no cells; submit a sheet with a header row and data",
            )
        return ReadError(
            "the header row is empty",
            file=sheet.label,
            sheet=sheet.name,
            row=1,
            hint="remove blank rows above the header, or set header_rows in the profile",
        )

    @staticmethod
    def _batch(
        sheet: _Sheet,
        names: list[str],
        headers: list[list[str | None]],
        width: int,
        pending: list[tuple[int, list[str | None]]],
    ) -> SourceBatch:
        columns: list[list[str | None]] = [[] for _ in range(width)]
        for _, cells in pending:
            for index in range(width):
                columns[index].append(cells[index] if index < len(cells) else None)
        return SourceBatch(
            file=sheet.label,
            table=pa.Table.from_arrays(
                [pa.array(column, type=pa.string()) for column in columns], names=names
            ),
            rows=pa.array([number for number, _ in pending], type=pa.int64()),
            sheet=sheet.name,
            headers=headers,
        )
