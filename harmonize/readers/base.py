"""The reader plug-in contract: one module per input format, discovered from a registry.

A reader turns one input file into a stream of :class:`SourceBatch` es: Arrow tables of
*raw* values (every column is a string, nothing is coerced) plus, for every row, the row
number the submitter sees in their own file (1-based, header rows counted, as a
spreadsheet shows it). Adding a format means adding a module that subclasses
:class:`Reader` and decorates it with :func:`register`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import pyarrow as pa

from harmonize.errors import ReadError


@dataclass(frozen=True)
class ReadOptions:
    """How to read one file. Profiles choose these; users rarely need to."""

    label: str = ""  # the file's name as the submitter knows it (relative to the submission)
    header_rows: int = 1  # rows of header before data; the first gives column names
    batch_size: int = 50_000  # rows per batch
    sheet: str | None = None  # XLSX: sheet name; default the first sheet
    encoding: str | None = None  # CSV/TSV: detected when None
    delimiter: str | None = None  # CSV/TSV: detected when None
    max_document_bytes: int | None = None  # JSON read whole (a FHIR Bundle): a cap, or None


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

    @abstractmethod
    def read(self, path: Path, options: ReadOptions) -> Iterator[SourceBatch]:
        """Yield batches. Raise :class:`ReadError` naming file, row and column on bad input."""


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
    raise ReadError(
        f"no reader for files like {path.name!r}",
        file=path.name,
        hint="submit CSV, TSV, XLSX, JSON, JSON Lines or Phenopacket JSON",
    )
