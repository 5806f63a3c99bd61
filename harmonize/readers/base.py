"""The reader plug-in contract: one module per input format, discovered from a registry.

A reader turns one input file into a stream of :class:`SourceBatch` es: Arrow tables of
*raw* values (every column is a string, nothing is coerced) plus, for every row, the row
number the submitter sees in their own file (1-based, header rows counted, as a
spreadsheet shows it). Adding a format means adding a module that subclasses
:class:`Reader`, implements :meth:`Reader.batches` and decorates it with :func:`register`.

Every reader is bounded by :attr:`ReadOptions.limits` (see :mod:`harmonize.readers.limits`):
:meth:`Reader.read` gives the reader a :class:`~harmonize.readers.limits.Guard` and counts
the reader's own time against the file's budget. It also refuses a file whose batches do
not all carry the same header.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import pyarrow as pa

from harmonize.errors import ReadError
from harmonize.readers.limits import Guard
from harmonize.settings import Limits


@dataclass(frozen=True)
class ReadOptions:
    """How to read one file. Profiles choose these; users rarely need to."""

    label: str = ""  # the file's name as the submitter knows it (relative to the submission)
    header_rows: int = 1  # rows of header before data; the first gives column names
    batch_size: int = 50_000  # rows per batch
    sheet: str | None = None  # XLSX: sheet name; default the first sheet
    encoding: str | None = None  # CSV/TSV: detected when None
    delimiter: str | None = None  # CSV/TSV: detected when None
    limits: Limits = field(default_factory=Limits)  # Settings.limits
    # the submission's other files (name, path), for a format spread over several files
    # (an OMOP CDM export's tables): the profile passes MappingContext.files
    companions: tuple[tuple[str, Path], ...] = ()
    # a column whose runs of equal values are never split between batches (a long table's
    # id column): harmonize.readers.grouping.keep_together, applied by the harmonizer
    group_by: str | None = None


@dataclass
class SourceBatch:
    """Raw rows from one file (and sheet), with their provenance.

    ``table`` has unique column names: a repeated header gets a ``#2``, ``#3`` suffix.
    ``headers`` keeps every header row exactly as written, one list per header row,
    aligned with ``table``'s columns. ``rows`` holds each row's 1-based number in the file.
    For JSON documents (phenopackets, JSON objects) ``table`` has one column ``document``
    holding each document's JSON text.
    """

    file: str
    table: pa.Table
    rows: pa.Array
    sheet: str | None = None
    headers: list[list[str | None]] = field(default_factory=list)

    @property
    def num_rows(self) -> int:
        return int(self.table.num_rows)


class Reader(ABC):
    """Reads one file format into batches of raw string columns."""

    name: ClassVar[str]
    extensions: ClassVar[tuple[str, ...]]

    @classmethod
    def can_read(cls, path: Path, head: bytes) -> bool:
        """Whether this reader handles ``path``; ``head`` is the file's first bytes."""
        return path.suffix.lower() in cls.extensions

    def read(self, path: Path, options: ReadOptions) -> Iterator[SourceBatch]:
        """Yield batches within ``options.limits``; raise :class:`ReadError` on bad input.

        The reader's own time (not the consumer's, between batches) counts against
        ``limits.max_read_seconds``.
        """
        guard = Guard(options.limits, options.label or path.name)
        batches = self.batches(path, options, guard)
        first: SourceBatch | None = None
        try:
            while True:
                with guard.running():
                    batch = next(batches, None)
                if batch is None:
                    return
                if first is None:
                    first = batch
                else:
                    _same_header(first, batch)
                yield batch
        finally:
            close = getattr(batches, "close", None)
            if close is not None:  # a consumer that stops early closes the file now, not at GC
                close()

    @abstractmethod
    def batches(self, path: Path, options: ReadOptions, guard: Guard) -> Iterator[SourceBatch]:
        """Yield batches, calling ``guard`` as rows, columns and time go by.

        Raise :class:`ReadError` naming file, row and column on bad input.
        """


def _same_header(first: SourceBatch, batch: SourceBatch) -> None:
    """Every batch of one file carries the header of the first, column for column."""
    if batch.headers == first.headers and batch.table.column_names == first.table.column_names:
        return
    ours, theirs = first.table.column_names, batch.table.column_names
    column = next(
        (a for a, b in zip(ours, theirs, strict=False) if a != b),
        (ours + theirs)[min(len(ours), len(theirs))] if len(ours) != len(theirs) else None,
    )
    raise ReadError(
        "the header differs between batches of the file "
        f"(row {int(batch.rows[0].as_py()) if batch.num_rows else '?'} on)",
        file=batch.file,
        sheet=batch.sheet,
        column=column,
        hint="submit one table per file, with one header row at the top",
    )


_REGISTRY: dict[str, type[Reader]] = {}


def register(cls: type[Reader]) -> type[Reader]:
    _REGISTRY[cls.name] = cls
    return cls


def readers() -> dict[str, type[Reader]]:
    """Every registered reader, by name (importing the built-in ones)."""
    import harmonize.readers.formats  # noqa: F401  (registers the built-in readers)

    return dict(_REGISTRY)


def reader_for(path: Path, prefer: str | None = None) -> Reader:
    """Pick the reader for ``path``: ``prefer`` by name, else the first whose ``can_read`` says yes."""
    found = readers()
    if prefer is not None:
        if prefer not in found:
            raise ReadError(f"no reader named {prefer!r}", hint=f"use one of {sorted(found)}")
        return found[prefer]()
    head = b""
    if not path.is_dir():  # a directory of documents: the readers look inside it
        with path.open("rb") as fh:
            head = fh.read(4096)
    for cls in found.values():
        if cls.can_read(path, head):
            return cls()
    if path.is_dir():
        raise ReadError(
            "no Phenopacket files in the directory",
            file=path.name,
            hint="a directory must hold Phenopacket .json files (hidden files are skipped)",
        )
    raise ReadError(
        f"no reader for files like {path.name!r}",
        file=path.name,
        hint="submit CSV, TSV, XLSX, JSON, JSON Lines or Phenopacket JSON",
    )
