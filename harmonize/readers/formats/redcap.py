"""REDCap exports: a records CSV cut into batches that never split a record.

A REDCap records export (raw or label values) holds one row per record, or, in a
longitudinal project or one with repeating instruments, several rows per record (one per
``redcap_event_name`` and ``redcap_repeat_instrument``/``redcap_repeat_instance``). The
first column is the record id. This reader reads the file as the CSV reader does (same
limits, same row numbers) and moves a batch's last record to the next batch, so the
``redcap`` profile sees each record whole. REDCap exports a record's rows together; a
record whose rows are apart is a :class:`~harmonize.errors.ReadError` at the row where it
comes back.

The data dictionary (a CSV whose header is REDCap's dictionary header) yields no batches
here: the profile reads it once, before the records.
"""

from __future__ import annotations

import csv as pycsv
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from harmonize.errors import ReadError
from harmonize.readers.base import Reader, ReadOptions, SourceBatch, register
from harmonize.readers.formats.csv import CSVReader, file_label
from harmonize.readers.limits import Guard

_DICTIONARY_HEADERS = (
    {"variable / field name", "form name", "field type"},
    {"field_name", "form_name", "field_type"},
)


def header_of(path: Path) -> list[str]:
    """The first line of a CSV, as column names (empty if there is none)."""
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as fh:
        line = fh.readline(1 << 20)
    rows = list(pycsv.reader([line]))
    return [c.strip() for c in rows[0]] if rows else []


def first_data_row(path: Path) -> int | None:
    """The row number (header = 1) of a CSV's first row that is not blank: the first row
    of the file's first batch."""
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as fh:
        for number, row in enumerate(pycsv.reader(fh), start=1):
            if number > 1 and any(cell.strip() for cell in row):
                return number
    return None


def is_dictionary(path: Path) -> bool:
    names = {h.lower() for h in header_of(path)}
    return any(wanted <= names for wanted in _DICTIONARY_HEADERS)


@register
class REDCapReader(Reader):
    name = "redcap"
    extensions = (".csv",)

    @classmethod
    def can_read(cls, path: Path, head: bytes) -> bool:
        return False  # only when the redcap profile (or a manifest's format) asks for it

    def batches(self, path: Path, options: ReadOptions, guard: Guard) -> Iterator[SourceBatch]:
        if is_dictionary(path):
            return
        label = file_label(path, options)
        carry: SourceBatch | None = None
        seen: set[str] = set()
        for batch in CSVReader().batches(path, options, guard):
            if carry is not None:
                batch = SourceBatch(
                    batch.file,
                    pa.concat_tables([carry.table, batch.table]),
                    pa.concat_arrays([carry.rows, batch.rows]),
                    headers=batch.headers,
                )
            ids = pc.fill_null(batch.table.column(0), "").to_pylist()
            _together(ids, batch, seen, label)
            last = ids[-1] if ids else None
            cut = len(ids)
            while cut > 0 and ids[cut - 1] == last:
                cut -= 1
            carry = _slice(batch, cut, len(ids))
            if cut:
                seen.update(ids[:cut])
                yield _slice(batch, 0, cut)
        if carry is not None and carry.num_rows:
            yield carry


def _slice(batch: SourceBatch, start: int, stop: int) -> SourceBatch:
    return SourceBatch(
        batch.file,
        batch.table.slice(start, stop - start),
        batch.rows.slice(start, stop - start),
        headers=batch.headers,
    )


def _together(ids: list[str], batch: SourceBatch, seen: set[str], label: str) -> None:
    """Each record's rows are consecutive: a record id never comes back after another."""
    previous = None
    for i, rid in enumerate(ids):
        if rid != previous and (rid in seen):
            raise ReadError(
                f"the rows of record {rid!r} are not together: it comes back at this row",
                file=label,
                row=int(batch.rows[i].as_py()),
                column=batch.table.column_names[0],
                value=rid,
                hint="export the records from REDCap unchanged (it keeps each record's rows "
                "together), or sort the file by record id",
            )
        if previous is not None and rid != previous:
            seen.add(previous)
        previous = rid
