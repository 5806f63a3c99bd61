"""CSV and TSV: streamed with pyarrow in bounded memory, every value kept as a string.

The encoding is detected when :attr:`ReadOptions.encoding` is ``None`` (see
:mod:`harmonize.readers.encoding`: UTF-8 preferred, a byte order mark tolerated, legacy
encodings transcoded strictly; damaged UTF-8 and NUL characters are errors at their row and
column), and the delimiter when :attr:`ReadOptions.delimiter` is ``None`` (one of
``, ; TAB |``). Empty cells become null; fully blank lines are dropped but still counted, so
every row keeps the number a spreadsheet shows for it. Duplicate columns holding values and
a header repeated inside the data are errors (:mod:`harmonize.readers.headers`).

This module also holds the helpers the other tabular readers share: :func:`file_label`,
:func:`check_options`, :func:`column_names` and :func:`unique_names`.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from harmonize.errors import ConfigurationError, ReadError
from harmonize.readers import encoding as text
from harmonize.readers.base import Reader, ReadOptions, SourceBatch, register
from harmonize.readers.encoding import HEAD_BYTES, UTF8_HINT
from harmonize.readers.headers import HeaderChecks
from harmonize.readers.limits import Guard

BLOCK_SIZE = 1 << 20  # pyarrow parse block: a row must fit; ~32 blocks are read ahead
SNIFF_LINES = 100
DELIMITERS = ",;\t|"


def file_label(path: Path, options: ReadOptions) -> str:
    """The name errors and batches use for ``path``: the label if given, else the file name."""
    return options.label or path.name


def check_options(options: ReadOptions) -> None:
    """Reject options no reader can honour."""
    if options.batch_size < 1:
        raise ConfigurationError(
            f"batch_size must be at least 1, not {options.batch_size}",
            hint="set a positive batch size",
        )
    if options.header_rows < 0:
        raise ConfigurationError(
            f"header_rows must be 0 or more, not {options.header_rows}",
            hint="set how many header rows precede the data",
        )


def column_names(first_header: Sequence[str | None], width: int) -> list[str]:
    """Column names from the first header row: blanks become ``column_N``, repeats get ``#2``.

    >>> column_names(["id", None, "id", " "], 5)
    ['id', 'column_2', 'id#2', 'column_4', 'column_5']
    """
    raw: list[str] = []
    for index in range(width):
        name = first_header[index] if index < len(first_header) else None
        raw.append(name if name is not None and name.strip() else f"column_{index + 1}")
    return unique_names(raw)


def unique_names(names: Sequence[str]) -> list[str]:
    """Suffix repeated names with ``#2``, ``#3``... (never clashing with an existing name).

    >>> unique_names(["a", "b", "a", "a", "b"])
    ['a', 'b', 'a#2', 'a#3', 'b#2']
    >>> unique_names(["a", "a", "a#2"])
    ['a', 'a#3', 'a#2']
    """
    taken = set(names)
    seen: set[str] = set()
    result: list[str] = []
    counters: dict[str, int] = {}
    for name in names:
        if name not in seen:
            seen.add(name)
            result.append(name)
            continue
        count = counters.get(name, 1)
        candidate = name
        while candidate in taken or candidate in seen:
            count += 1
            candidate = f"{name}#{count}"
        counters[name] = count
        seen.add(candidate)
        result.append(candidate)
    return result


def detect_delimiter(head: bytes, encoding: str, fallback: str, *, complete: bool) -> str:
    """The delimiter among ``, ; TAB |`` that splits the first lines most consistently.

    Each candidate splits up to :data:`SNIFF_LINES` records with the csv module (quotes
    respected, linear time; ``csv.Sniffer``'s regular expressions took minutes on 64 KiB of
    ``","``). The winner gives the header and most records the same number of fields, at
    least two; ``fallback`` wins ties and single-column files. ``complete`` says ``head`` is
    the whole file (else its last, partial line is ignored).

    >>> detect_delimiter(b"a;b;c\\n1;2,5;3\\n", "utf-8", ",", complete=True)
    ';'
    >>> detect_delimiter(b"just one column\\n", "utf-8", "\\t", complete=True)
    '\\t'
    >>> detect_delimiter(b'id,note\\n1,"a; b; c"\\n', "utf-8", ",", complete=True)
    ','
    """
    sample = head.decode(encoding, errors="replace").lstrip("\ufeff")
    if not complete:
        cut = max(sample.rfind("\n"), sample.rfind("\r"))
        sample = sample[:cut] if cut > 0 else sample
    best, best_score = fallback, (0.0, 0)
    for delimiter in sorted(DELIMITERS, key=lambda d: d != fallback):
        counts = _field_counts(sample, delimiter)
        if not counts:
            continue
        width, times = Counter(counts).most_common(1)[0]
        if width < 2 or counts[0] != width:
            continue
        score = (times / len(counts), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _field_counts(sample: str, delimiter: str) -> list[int]:
    """Fields per non-blank record of the first :data:`SNIFF_LINES` records."""
    counts: list[int] = []
    try:
        for record in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter):
            if record:
                counts.append(len(record))
                if len(counts) == SNIFF_LINES:
                    break
    except csv.Error:  # an unclosed quote at the cut, a field over the csv module's limit
        pass
    return counts


class _RowErrors:
    """The invalid-row handler given to pyarrow: blank lines are skipped, ragged rows fail."""

    def __init__(self) -> None:
        self.skipped: set[int] = set()
        self.ragged: Any = None  # the first pyarrow InvalidRow that was not blank

    def __call__(self, row: Any) -> str:
        if not str(row.text).strip() and row.number is not None:
            self.skipped.add(int(row.number))
            return "skip"
        if self.ragged is None:
            self.ragged = row
        return "error"


class _Rebatcher:
    """Regroups pyarrow's byte-sized blocks into batches of exactly ``size`` rows."""

    def __init__(self, size: int, make: Callable[[pa.Table, pa.Array], SourceBatch]) -> None:
        self.size = size
        self.make = make
        self.tables: list[pa.Table] = []
        self.rows: list[np.ndarray[Any, Any]] = []
        self.count = 0
        self.emitted = 0

    def add(self, table: pa.Table, rows: np.ndarray[Any, Any]) -> Iterator[SourceBatch]:
        if table.num_rows == 0:
            return
        self.tables.append(table)
        self.rows.append(rows)
        self.count += table.num_rows
        if self.count < self.size:
            return
        combined = pa.concat_tables(self.tables)
        numbers = np.concatenate(self.rows)
        start = 0
        while self.count - start >= self.size:
            yield self._emit(combined.slice(start, self.size), numbers[start : start + self.size])
            start += self.size
        self.tables = [combined.slice(start)] if start < self.count else []
        self.rows = [numbers[start:]] if start < self.count else []
        self.count -= start

    def flush(self) -> Iterator[SourceBatch]:
        if self.count:
            yield self._emit(pa.concat_tables(self.tables), np.concatenate(self.rows))
        self.tables, self.rows, self.count = [], [], 0

    def _emit(self, table: pa.Table, rows: np.ndarray[Any, Any]) -> SourceBatch:
        self.emitted += table.num_rows
        return self.make(table.combine_chunks(), pa.array(rows, type=pa.int64()))


def _arrow_encoding(encoding: str) -> str:
    name = codecs.lookup(encoding).name
    # pyarrow reads UTF-8 natively and skips a UTF-8 BOM; anything else is transcoded.
    return "utf8" if name in ("utf-8", "utf-8-sig") else name


def _number_rows(start: int, count: int, skipped: set[int]) -> tuple[np.ndarray[Any, Any], int]:
    """Row numbers for ``count`` parsed rows after row ``start``, stepping over skipped rows."""
    if not skipped:
        return np.arange(start + 1, start + count + 1, dtype=np.int64), start + count
    numbers: list[int] = []
    current = start
    while len(numbers) < count:
        current += 1
        if current in skipped:
            skipped.discard(current)
        else:
            numbers.append(current)
    return np.asarray(numbers, dtype=np.int64), current


def _not_blank(table: pa.Table) -> pa.Array:
    mask = pc.is_valid(table.column(0))
    for column in table.columns[1:]:
        mask = pc.or_(mask, pc.is_valid(column))
    return mask


class DelimitedReader(Reader):
    """Shared implementation of the CSV and TSV readers."""

    fallback_delimiter: ClassVar[str] = ","

    def batches(self, path: Path, options: ReadOptions, guard: Guard) -> Iterator[SourceBatch]:
        check_options(options)
        label = file_label(path, options)
        with path.open("rb") as fh:
            head = fh.read(HEAD_BYTES)
        complete = len(head) < HEAD_BYTES
        if options.encoding is None:
            found = text.detect(path, guard)
        else:
            try:
                codecs.lookup(options.encoding)
            except LookupError as err:
                raise ConfigurationError(
                    f"unknown text encoding {options.encoding!r}",
                    file=label,
                    hint="name a Python codec such as 'utf-8' or 'cp1252'",
                ) from err
            nul = text.has_nul(path, guard) if text.ascii_compatible(options.encoding) else None
            found = text.Detected(options.encoding, nul)
        encoding = found.encoding
        if not head.decode(encoding, errors="replace").strip("\ufeff \t\r\n\x00"):
            raise ReadError(
                "file is empty", file=label, hint="submit a file with a header row and data rows"
            )
        if options.delimiter is None:
            delimiter = detect_delimiter(head, encoding, self.fallback_delimiter, complete=complete)
        else:
            delimiter = options.delimiter
        source = _Source(path, label, encoding, delimiter, options.header_rows, guard)
        if found.damaged:
            raise source.bad_text(text.is_damaged, "text is not valid UTF-8")
        if found.nul:
            raise source.bad_text(text.is_nul, "a NUL character is not text")
        yield from self._stream(source, options, check_nul=found.nul is None)

    def _stream(
        self, source: _Source, options: ReadOptions, *, check_nul: bool
    ) -> Iterator[SourceBatch]:
        guard, label = source.guard, source.label
        # First pass: only the schema, i.e. how many fields the first row has.
        first = next(iter(source.batches(None)), None)
        if first is None:
            raise ReadError(
                "file is empty", file=label, hint="submit a file with a header row and data rows"
            )
        width = first[0].num_columns
        guard.width(width, row=1)

        header_rows = options.header_rows
        headers: list[list[str | None]] = []
        names: list[str] | None = None if header_rows else column_names([], width)
        checks = HeaderChecks([], names or [], label)

        def make(table: pa.Table, rows: pa.Array) -> SourceBatch:
            return SourceBatch(file=label, table=table, rows=rows, headers=headers)

        rebatcher = _Rebatcher(options.batch_size, make)
        done = 0
        for batch, errors in source.batches(width):
            guard.tick()
            numbers, done = _number_rows(done, batch.num_rows, errors.skipped)
            table = pa.Table.from_batches([batch])
            if table.num_rows:
                guard.row(int(numbers[-1]))
            if len(headers) < header_rows:
                take = min(header_rows - len(headers), table.num_rows)
                columns = [column.to_pylist() for column in table.slice(0, take).columns]
                for offset, cells in enumerate(zip(*columns, strict=True)):
                    row = int(numbers[offset])
                    for index, cell in enumerate(cells):
                        guard.text(cell, row=row, column=f"column_{index + 1}")
                        if check_nul and cell is not None and "\x00" in cell:
                            raise source.nul(row, f"column_{index + 1}", cell)
                    headers.append(list(cells))
                table, numbers = table.slice(take), numbers[take:]
                if len(headers) == header_rows:
                    names = column_names(headers[0], width)
                    checks = HeaderChecks(headers, names, label)
            if table.num_rows == 0 or names is None:
                continue
            keep = _not_blank(table)
            if not pc.all(keep).as_py():
                table = table.filter(keep)
                numbers = pa.array(numbers).filter(keep).to_numpy()
            table = table.rename_columns(names)
            rows = pa.array(numbers)
            if check_nul:
                source.check_nul(table, rows)
            guard.cells(table, rows)
            checks.check(table, rows)
            yield from rebatcher.add(table, numbers)
        yield from rebatcher.flush()
        if rebatcher.emitted == 0:
            raise ReadError(
                "no data rows",
                file=label,
                hint=f"the file has only its {header_rows} header row(s); add data rows below",
            )


class _Source:
    """One delimited file as pyarrow parses it, and where its bad cells are."""

    def __init__(
        self,
        path: Path,
        label: str,
        encoding: str,
        delimiter: str,
        header_rows: int,
        guard: Guard,
    ) -> None:
        self.path = path
        self.label = label
        self.encoding = encoding
        self.delimiter = delimiter
        self.header_rows = header_rows
        self.guard = guard

    def _open(self, width: int | None, errors: _RowErrors) -> Any:
        types = {f"f{index}": pa.string() for index in range(width)} if width else None
        return pacsv.open_csv(
            self.path,
            read_options=pacsv.ReadOptions(
                use_threads=False,
                block_size=BLOCK_SIZE,
                autogenerate_column_names=True,
                encoding=_arrow_encoding(self.encoding),
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=self.delimiter,
                newlines_in_values=True,
                ignore_empty_lines=False,
                invalid_row_handler=errors,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=types,
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                null_values=[""],
            ),
        )

    def batches(self, width: int | None) -> Iterator[tuple[Any, _RowErrors]]:
        """pyarrow record batches, with pyarrow's and the codecs' errors made ReadErrors."""
        errors = _RowErrors()
        try:
            reader = self._open(width, errors)
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    return
                yield batch, errors
        except (pa.ArrowInvalid, UnicodeError) as err:
            raise self._read_error(err, errors) from err

    def _read_error(self, err: Exception, errors: _RowErrors) -> ReadError:
        if errors.ragged is not None:
            bad = errors.ragged
            return ReadError(
                f"row has {bad.actual_columns} fields but the header has {bad.expected_columns}",
                file=self.label,
                row=bad.number,
                value=bad.text,
                hint="quote values that contain the delimiter, and give every row the same "
                "number of fields as the header",
            )
        message = str(err)
        if isinstance(err, UnicodeError) or "UTF8" in message or "UTF-8" in message:
            name = _arrow_encoding(self.encoding)
            return self.bad_text(
                text.is_damaged, f"text is not valid {'UTF-8' if name == 'utf8' else name}"
            )
        if "straddling" in message:
            return ReadError(
                f"a row is longer than {BLOCK_SIZE // (1 << 20)} MiB or a quote is never closed",
                file=self.label,
                hint='check for an unbalanced double quote (")',
            )
        return ReadError(f"cannot parse the file: {message}", file=self.label)

    def bad_text(self, bad: Callable[[str], bool], message: str) -> ReadError:
        """An error at the first cell ``bad`` says yes to (or the file, if none is found)."""
        found = text.locate(self.path, self.encoding, self.delimiter, bad, self.guard)
        if found is None:
            return ReadError(message, file=self.label, hint=UTF8_HINT)
        row, index, cell, first = found
        names = column_names(first, index + 1) if self.header_rows and row > 1 else None
        return ReadError(
            message,
            file=self.label,
            row=row,
            column=text.shown(names[index]) if names else f"column_{index + 1}",
            value=text.shown(cell),
            hint="remove the NUL characters" if bad is text.is_nul else UTF8_HINT,
        )

    def check_nul(self, table: pa.Table, rows: pa.Array) -> None:
        """NULs in decoded text (encodings whose raw bytes hold NULs anyway, like UTF-16)."""
        for name, column in zip(table.column_names, table.columns, strict=True):
            hits = pc.match_substring(column, "\x00")
            if pc.any(hits).as_py():
                at = pc.index(hits, True).as_py()
                raise self.nul(rows[at].as_py(), name, column[at].as_py())

    def nul(self, row: int, column: str, cell: str) -> ReadError:
        return ReadError(
            "a NUL character is not text",
            file=self.label,
            row=row,
            column=column,
            value=text.shown(cell),
            hint="remove the NUL characters",
        )


@register
class CSVReader(DelimitedReader):
    """Comma-separated values (the delimiter is still detected: ``;`` files are common)."""

    name = "csv"
    extensions = (".csv",)
    fallback_delimiter = ","


@register
class TSVReader(DelimitedReader):
    """Tab-separated values, including Excel's "Text (Tab delimited)" ``.txt`` exports."""

    name = "tsv"
    extensions = (".tsv", ".tab", ".txt")
    fallback_delimiter = "\t"
