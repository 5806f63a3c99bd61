"""OMOP CDM v5.4 CSV tables, read together: batches of whole persons.

An OMOP submission is several CSV files, one per CDM table, each named after its table
(``PERSON.csv``, ``condition_occurrence.csv``, ...: the file name's stem, in any case).
This reader is called for each of them. For the PERSON file it reads the clinical tables
among ``ReadOptions.companions`` (CONDITION_OCCURRENCE, OBSERVATION, MEASUREMENT,
PROCEDURE_OCCURRENCE, DRUG_EXPOSURE), each with the CSV reader and its limits, groups
their rows by ``person_id``, and yields batches of whole persons: one row per CDM record,
with four columns:

- ``table``: its CDM table, upper case (``PERSON``, ``CONDITION_OCCURRENCE``, ...);
- ``file``: the submitter's file it is in;
- ``person_id``: its person;
- ``record``: the CSV row as compact JSON (column -> text; empty cells left out).

A row's number is its row in its own file. The records of a person_id that PERSON does
not have come last, in a batch of their own, so the profile can name each of them. For
every other file (the clinical tables, CONCEPT) this reader yields nothing: they are read
with PERSON (the profile reads CONCEPT itself). The clinical tables are held in memory,
grouped by person, while PERSON is read; each is bounded by the reader limits.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path, PurePosixPath

import orjson
import pyarrow as pa

from harmonize.errors import ReadError
from harmonize.readers.base import Reader, ReadOptions, SourceBatch, register
from harmonize.readers.formats.csv import CSVReader, file_label
from harmonize.readers.limits import Guard

CLINICAL = (
    "condition_occurrence",
    "observation",
    "measurement",
    "procedure_occurrence",
    "drug_exposure",
)
TABLES = ("person", *CLINICAL, "concept")
COLUMNS = ("table", "file", "person_id", "record")  # a batch's columns

Entry = tuple[str, str, int, str]  # table, file, row, record JSON


def table_of(name: str) -> str:
    """The CDM table a file holds, from its name: ``omop/PERSON.csv`` -> ``person``."""
    return PurePosixPath(name).stem.lower()


def _records(name: str, path: Path, options: ReadOptions) -> Iterator[tuple[int, dict[str, str]]]:
    """Each row of one CDM table: its row number and its non-empty cells."""
    for batch in CSVReader().read(path, replace(options, label=name, companions=())):
        names = batch.table.column_names
        if "person_id" not in names:
            raise ReadError(
                "the table has no person_id column",
                file=name,
                row=1,
                column="person_id",
                hint="export the OMOP CDM v5.4 table with its DDL's column names",
            )
        columns = [batch.table.column(c).to_pylist() for c in names]
        for i in range(batch.num_rows):
            cells = {
                n: c[i].strip()
                for n, c in zip(names, columns, strict=True)
                if c[i] and c[i].strip()
            }
            yield int(batch.rows[i].as_py()), cells


class _Rows:
    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.people: list[str] = []
        self.numbers: list[int] = []

    def add(self, person: str, entries: list[Entry]) -> None:
        for table, file, row, record in entries:
            self.entries.append((table, file, row, record))
            self.people.append(person)
            self.numbers.append(row)

    def batch(self, label: str) -> SourceBatch:
        table = pa.table(
            {
                "table": [e[0] for e in self.entries],
                "file": [e[1] for e in self.entries],
                "person_id": self.people,
                "record": [e[3] for e in self.entries],
            },
            schema=pa.schema([(n, pa.string()) for n in COLUMNS]),
        )
        return SourceBatch(label, table, pa.array(self.numbers, pa.int64()))


@register
class OMOPReader(Reader):
    name = "omop"
    extensions = (".csv",)

    @classmethod
    def can_read(cls, path: Path, head: bytes) -> bool:
        return False  # only when the omop profile (or a manifest's format) asks for it

    def batches(self, path: Path, options: ReadOptions, guard: Guard) -> Iterator[SourceBatch]:
        label = file_label(path, options)
        files = {table_of(n): (n, p) for n, p in options.companions}
        files.setdefault(table_of(label), (label, path))
        if table_of(label) not in TABLES:
            raise ReadError(
                f"{label!r} is not named after an OMOP CDM table the omop profile reads",
                file=label,
                hint="name each file after its table: "
                + ", ".join(f"{t.upper()}.csv" for t in TABLES),
            )
        if "person" not in files:
            raise ReadError(
                "an OMOP submission needs its PERSON table",
                file=label,
                hint="add PERSON.csv (OMOP CDM v5.4 column names) to the submission",
            )
        if table_of(label) != "person":
            return  # read with PERSON
        events: dict[str, list[Entry]] = {}
        for table in CLINICAL:
            if table not in files:
                continue
            name, where = files[table]
            for row, cells in _records(name, where, options):
                guard.tick()
                entry = (table.upper(), name, row, orjson.dumps(cells).decode())
                events.setdefault(cells.get("person_id", ""), []).append(entry)
        rows = _Rows()
        for row, cells in _records(label, path, options):
            person = cells.get("person_id", "")
            rows.add(person, [("PERSON", label, row, orjson.dumps(cells).decode())])
            rows.add(person, events.pop(person, []))
            if len(rows.entries) >= options.batch_size:
                yield rows.batch(label)
                rows = _Rows()
        for person, entries in events.items():  # no PERSON row: the profile names each
            rows.add(person, entries)
        if rows.entries:
            yield rows.batch(label)
