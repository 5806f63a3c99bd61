"""CSV and TSV: streamed with pyarrow in bounded memory, every value kept as a string.

The encoding is detected when :attr:`ReadOptions.encoding` is ``None`` (UTF-8 preferred, a
byte order mark tolerated, Windows-1252 and other legacy encodings transcoded to UTF-8), and
the delimiter when :attr:`ReadOptions.delimiter` is ``None`` (one of ``, ; TAB |``). Empty
cells become null; fully blank lines are dropped but still counted, so every row keeps the
number a spreadsheet shows for it.

This module also holds the helpers the other tabular readers share: :func:`file_label`,
:func:`check_options`, :func:`column_names` and :func:`unique_names`.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from charset_normalizer import from_bytes
from charset_normalizer.md import mess_ratio

from harmonize.errors import ConfigurationError, ReadError
from harmonize.readers.base import Reader, ReadOptions, SourceBatch, register

HEAD_BYTES = 64 * 1024  # what delimiter detection looks at
SCAN_BYTES = 1 << 20  # chunk size when checking that a whole file is UTF-8
BLOCK_SIZE = 1 << 20  # pyarrow parse block: a row must fit; ~32 blocks are read ahead
SNIFF_LINES = 100
DELIMITERS = ",;\t|"
MAX_LEGACY_MESS = 0.2  # charset_normalizer mess ratio above which Windows-1252 is rejected


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


def detect_encoding(path: Path, label: str) -> str:
    """The file's text encoding, as a Python codec name.

    A UTF-16/32 byte order mark decides; otherwise the whole file is checked to be UTF-8 (in
    chunks, so memory stays bounded). If it is not, Windows-1252 is preferred when it decodes
    the text plausibly, else charset_normalizer's best guess.
    """
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
        if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
            return "utf-32"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        bom = head.startswith(codecs.BOM_UTF8)
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        offset = 0
        bad_at: int | None = None
        while chunk := fh.read(SCAN_BYTES):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as err:
                bad_at = offset + err.start
                break
            offset += len(chunk)
        else:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                bad_at = offset
        if bad_at is None:
            return "utf-8-sig" if bom else "utf-8"
        sample = head
        if bad_at >= len(head):
            fh.seek(max(0, bad_at - HEAD_BYTES // 2))
            sample += b"\n" + fh.read(HEAD_BYTES)
    return _guess_legacy(sample, label)


def _guess_legacy(sample: bytes, label: str) -> str:
    try:
        text = sample.decode("cp1252")
    except UnicodeDecodeError:
        pass
    else:
        if mess_ratio(text, MAX_LEGACY_MESS) < MAX_LEGACY_MESS:
            return "cp1252"
    best = from_bytes(sample).best()
    if best is None:
        raise ReadError(
            "cannot tell the file's text encoding",
            file=label,
            hint="save the file as UTF-8 (or name its encoding in the submission profile)",
        )
    return str(best.encoding)


def detect_delimiter(head: bytes, encoding: str, fallback: str, *, complete: bool) -> str:
    """The delimiter ``csv.Sniffer`` finds among ``, ; TAB |`` in the first lines, or ``fallback``.

    ``complete`` says ``head`` is the whole file (else its last, partial line is ignored).

    >>> detect_delimiter(b"a;b;c\\n1;2,5;3\\n", "utf-8", ",", complete=True)
    ';'
    >>> detect_delimiter(b"just one column\\n", "utf-8", "\\t", complete=True)
    '\\t'
    """
    text = head.decode(encoding, errors="replace").lstrip("\ufeff")
    lines = text.splitlines()
    if not complete and len(lines) > 1:
        lines = lines[:-1]
    sample = "\n".join(lines[:SNIFF_LINES])
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=DELIMITERS)
    except csv.Error:
        return fallback
    delimiter = str(dialect.delimiter)
    return delimiter if delimiter in DELIMITERS else fallback


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

    def read(self, path: Path, options: ReadOptions) -> Iterator[SourceBatch]:
        check_options(options)
        label = file_label(path, options)
        with path.open("rb") as fh:
            head = fh.read(HEAD_BYTES)
        complete = len(head) < HEAD_BYTES
        if options.encoding is None:
            encoding = detect_encoding(path, label)
        else:
            encoding = options.encoding
            try:
                codecs.lookup(encoding)
            except LookupError as err:
                raise ConfigurationError(
                    f"unknown text encoding {encoding!r}",
                    file=label,
                    hint="name a Python codec such as 'utf-8' or 'cp1252'",
                ) from err
        if not head.decode(encoding, errors="replace").strip("\ufeff \t\r\n\x00"):
            raise ReadError(
                "file is empty", file=label, hint="submit a file with a header row and data rows"
            )
        if options.delimiter is None:
            delimiter = detect_delimiter(head, encoding, self.fallback_delimiter, complete=complete)
        else:
            delimiter = options.delimiter
        yield from self._stream(path, options, label, _arrow_encoding(encoding), delimiter)

    def _open(
        self, path: Path, encoding: str, delimiter: str, width: int | None, errors: _RowErrors
    ) -> Any:
        types = {f"f{index}": pa.string() for index in range(width)} if width else None
        return pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(
                use_threads=False,
                block_size=BLOCK_SIZE,
                autogenerate_column_names=True,
                encoding=encoding,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
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

    def _batches(
        self, path: Path, label: str, encoding: str, delimiter: str, width: int | None
    ) -> Iterator[tuple[Any, _RowErrors]]:
        """pyarrow record batches, with pyarrow's and the codecs' errors made ReadErrors."""
        errors = _RowErrors()
        try:
            reader = self._open(path, encoding, delimiter, width, errors)
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    return
                yield batch, errors
        except (pa.ArrowInvalid, UnicodeDecodeError) as err:
            raise self._read_error(err, errors, label, encoding) from err

    @staticmethod
    def _read_error(err: Exception, errors: _RowErrors, label: str, encoding: str) -> ReadError:
        if errors.ragged is not None:
            bad = errors.ragged
            return ReadError(
                f"row has {bad.actual_columns} fields but the header has {bad.expected_columns}",
                file=label,
                row=bad.number,
                value=bad.text,
                hint="quote values that contain the delimiter, and give every row the same "
                "number of fields as the header",
            )
        text = str(err)
        if isinstance(err, UnicodeDecodeError) or "UTF8" in text or "UTF-8" in text:
            return ReadError(
                f"text is not valid {'UTF-8' if encoding == 'utf8' else encoding}",
                file=label,
                hint="save the file as UTF-8 (or name its encoding in the submission profile)",
            )
        if "straddling" in text:
            return ReadError(
                f"a row is longer than {BLOCK_SIZE // (1 << 20)} MiB or a quote is never closed",
                file=label,
                hint='check for an unbalanced double quote (")',
            )
        return ReadError(f"cannot parse the file: {text}", file=label)

    def _stream(
        self, path: Path, options: ReadOptions, label: str, encoding: str, delimiter: str
    ) -> Iterator[SourceBatch]:
        # First pass: only the schema, i.e. how many fields the first row has.
        first = next(iter(self._batches(path, label, encoding, delimiter, None)), None)
        if first is None:
            raise ReadError(
                "file is empty", file=label, hint="submit a file with a header row and data rows"
            )
        width = first[0].num_columns

        header_rows = options.header_rows
        headers: list[list[str | None]] = []
        names: list[str] | None = None if header_rows else column_names([], width)

        def make(table: pa.Table, rows: pa.Array) -> SourceBatch:
            return SourceBatch(file=label, table=table, rows=rows, headers=headers)

        rebatcher = _Rebatcher(options.batch_size, make)
        done = 0
        for batch, errors in self._batches(path, label, encoding, delimiter, width):
            numbers, done = _number_rows(done, batch.num_rows, errors.skipped)
            table = pa.Table.from_batches([batch])
            if len(headers) < header_rows:
                take = min(header_rows - len(headers), table.num_rows)
                columns = [column.to_pylist() for column in table.slice(0, take).columns]
                headers.extend([list(cells) for cells in zip(*columns, strict=True)])
                table, numbers = table.slice(take), numbers[take:]
                if len(headers) == header_rows:
                    names = column_names(headers[0], width)
            if table.num_rows == 0 or names is None:
                continue
            keep = _not_blank(table)
            if not pc.all(keep).as_py():
                table = table.filter(keep)
                numbers = pa.array(numbers).filter(keep).to_numpy()
            table = table.rename_columns(names)
            yield from rebatcher.add(table, numbers)
        yield from rebatcher.flush()
        if rebatcher.emitted == 0:
            raise ReadError(
                "no data rows",
                file=label,
                hint=f"the file has only its {header_rows} header row(s); add data rows below",
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
