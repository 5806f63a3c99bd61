"""FHIR JSON: a Bundle (``.json``), or NDJSON with one Bundle or one resource per line.

Every batch has one row per resource, with five columns:

- ``resource``: the resource as compact JSON text;
- ``resource_type``: its ``resourceType``;
- ``path``: where it sits in its record, ``Bundle.entry[3].resource`` (FHIRPath, 0-based),
  or null for a resource that is the record itself;
- ``group``: the records its references resolve in (one Bundle, or an NDJSON file's loose
  resources); a batch never splits a group;
- ``full_url``: its Bundle entry's ``fullUrl``, which references may use.

A row's number is its record index: a Bundle file's entry number (1-based) or an NDJSON
file's line number. Memory is bounded: an NDJSON file is streamed line by line; what must be
read whole (a Bundle file, one line, the loose resources of an NDJSON file, which reference
each other) is refused above ``limits.max_fhir_document_bytes``. The reader limits hold as
for every reader (:mod:`harmonize.readers.limits`): a file or line over
``limits.max_json_bytes`` or nested deeper than ``limits.max_json_depth``, more entries or
lines than ``limits.max_rows``, and more time than ``limits.max_read_seconds``.

Text that is not UTF-8, and NUL characters (a raw byte or a ``\\u0000`` escape), are errors
at their line and column, with the record (the entry or line) and the field
(``Bundle.entry[3].resource.name[0].family``, :mod:`harmonize.readers.json_text`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from harmonize.errors import ReadError
from harmonize.readers.base import Reader, ReadOptions, SourceBatch, register
from harmonize.readers.formats.csv import check_options, file_label
from harmonize.readers.formats.phenopacket import LINES_SUFFIXES, json_lines, load_json
from harmonize.readers.json_text import Path as Path_
from harmonize.readers.json_text import RowOf
from harmonize.readers.limits import Guard

_RESOURCE = re.compile(rb'"resourceType"\s*:\s*"[A-Z][A-Za-z]+"')
HINT_SPLIT = (
    "split the data into one Bundle per patient, one per NDJSON line, or ask the data "
    "centre to raise limits.max_fhir_document_bytes (HARMONIZE_LIMIT_MAX_FHIR_DOCUMENT_BYTES)"
)
LIMIT = "max_fhir_document_bytes"


def looks_like_fhir(head: bytes) -> bool:
    """Whether a JSON file's first bytes hold a FHIR resource.

    >>> looks_like_fhir(b'{"resourceType": "Bundle", "type": "collection"}')
    True
    >>> looks_like_fhir(b'{"id": "p1", "subject": {"id": "s1"}}')
    False
    """
    return _RESOURCE.search(head) is not None


class _Rows:
    """The rows of one batch, filled group by group."""

    def __init__(self) -> None:
        self.resources: list[str] = []
        self.types: list[str | None] = []
        self.paths: list[str | None] = []
        self.groups: list[str] = []
        self.urls: list[str | None] = []
        self.rows: list[int] = []

    def __len__(self) -> int:
        return len(self.rows)

    def add(
        self, resource: Any, row: int, path: str | None, group: str, url: str | None = None
    ) -> None:
        self.resources.append(orjson.dumps(resource).decode())
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        self.types.append(kind if isinstance(kind, str) else None)
        self.paths.append(path)
        self.groups.append(group)
        self.urls.append(url)
        self.rows.append(row)

    def batch(self, label: str) -> SourceBatch:
        table = pa.table(
            {
                "resource": pa.array(self.resources, pa.string()),
                "resource_type": pa.array(self.types, pa.string()),
                "path": pa.array(self.paths, pa.string()),
                "group": pa.array(self.groups, pa.string()),
                "full_url": pa.array(self.urls, pa.string()),
            }
        )
        return SourceBatch(file=label, table=table, rows=pa.array(self.rows, pa.int64()))


def _entries(
    bundle: dict[str, Any], label: str, row: int | None
) -> list[tuple[int, Any, str | None]]:
    """``(index, resource, fullUrl)`` of a Bundle's entries; a malformed one is a ReadError."""
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise ReadError(
            "Bundle.entry is not a JSON array",
            file=label,
            row=row,
            column="Bundle.entry",
            hint="write the entries as an array of {fullUrl, resource} objects",
        )
    out = []
    for i, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            raise ReadError(
                f"Bundle.entry[{i}] holds no resource object",
                file=label,
                row=row if row is not None else i + 1,
                column=f"Bundle.entry[{i}].resource",
                hint="every entry needs a 'resource' JSON object",
            )
        full_url = entry.get("fullUrl")
        out.append((i, resource, full_url if isinstance(full_url, str) else None))
    return out


def _fhir_path(value: Any, path: Path_) -> tuple[int | None, Path_]:
    """A field of a Bundle file: its entry's row, and its FHIRPath from ``Bundle``.

    A resource alone is row 1, its path from its type.

    >>> _fhir_path({"resourceType": "Bundle"}, ("entry", 2, "resource", "id"))
    (3, ('Bundle', 'entry', 2, 'resource', 'id'))
    >>> _fhir_path({"resourceType": "Patient"}, ("name", 0, "family"))
    (1, ('Patient', 'name', 0, 'family'))
    """
    kind = value.get("resourceType") if isinstance(value, dict) else None
    named: Path_ = (kind, *path) if isinstance(kind, str) and kind else path
    if kind == "Bundle":
        entry = len(path) > 1 and path[0] == "entry" and isinstance(path[1], int)
        return (int(path[1]) + 1 if entry else None), named
    return (1 if isinstance(value, dict) else None), named


def _line_path(line: int) -> RowOf:
    """A field of an NDJSON line: the line's row, and the FHIRPath."""
    return lambda value, path: (line, _fhir_path(value, path)[1])


def _too_big(size: int, guard: Guard, what: str, row: int | None = None, *, why: str = "") -> None:
    """``size`` bytes read whole: over ``limits.max_fhir_document_bytes`` is LimitExceeded."""
    limit = guard.limits.max_fhir_document_bytes
    if size > limit:
        raise guard.exceeded(
            f"{what}: {size:,} bytes, more than the {limit:,} read whole at once{why}",
            LIMIT,
            row=row,
            hint=HINT_SPLIT,
        )


@register
class FHIRReader(Reader):
    """FHIR R4 resources: a Bundle file, or NDJSON of Bundles or resources."""

    name = "fhir"
    extensions = (".json", *LINES_SUFFIXES)

    @classmethod
    def can_read(cls, path: Path, head: bytes) -> bool:
        return super().can_read(path, head) and looks_like_fhir(head)

    def batches(self, path: Path, options: ReadOptions, guard: Guard) -> Iterator[SourceBatch]:
        check_options(options)
        label = file_label(path, options)
        if path.suffix.lower() in LINES_SUFFIXES:
            yield from self._read_lines(path, options, label, guard)
        else:
            yield from self._read_file(path, options, label, guard)

    def _read_file(
        self, path: Path, options: ReadOptions, label: str, guard: Guard
    ) -> Iterator[SourceBatch]:
        _too_big(path.stat().st_size, guard, "the Bundle")
        data = load_json(path, label, guard, row_of=_fhir_path)
        guard.tick()
        rows = _Rows()
        if not isinstance(data, dict):
            raise ReadError(
                "expected a FHIR Bundle or resource (a JSON object)",
                file=label,
                row=1,
                hint="submit one Bundle per .json file, or NDJSON",
            )
        if data.get("resourceType") == "Bundle":
            entries = _entries(data, label, None)
            guard.row(len(entries))  # a row is an entry
            for i, resource, url in entries:
                rows.add(resource, i + 1, f"Bundle.entry[{i}].resource", label, url)
            if not len(rows):
                raise ReadError("the Bundle has no entries", file=label, hint="add entries")
        else:
            rows.add(data, 1, None, label)
        yield rows.batch(label)

    def _read_lines(
        self, path: Path, options: ReadOptions, label: str, guard: Guard
    ) -> Iterator[SourceBatch]:
        rows = _Rows()
        loose = _Rows()  # resources on their own lines: one group, handed out at the end
        loose_bytes = 0
        for line, value in json_lines(path, label, guard, row_of=_line_path):
            if not isinstance(value, dict):
                raise ReadError(
                    "expected a FHIR resource or Bundle (a JSON object) on this line",
                    file=label,
                    row=line,
                    hint="write one JSON object per line",
                )
            if value.get("resourceType") != "Bundle":
                loose.add(value, line, None, label)
                loose_bytes += len(loose.resources[-1])
                _too_big(
                    loose_bytes,
                    guard,
                    f"the resources on their own lines, up to line {line}",
                    line,
                    why="; they refer to each other, so they are read together",
                )
                continue
            group = f"{label}:{line}"
            before = len(rows)
            for i, resource, url in _entries(value, label, line):
                rows.add(resource, line, f"Bundle.entry[{i}].resource", group, url)
            size = sum(len(r) for r in rows.resources[before:])
            _too_big(size, guard, f"the Bundle on line {line}", line)
            if len(rows) >= options.batch_size:  # whole bundles only: a batch may run over
                yield rows.batch(label)
                rows = _Rows()
        if len(rows):
            yield rows.batch(label)
        if len(loose):
            yield loose.batch(label)
