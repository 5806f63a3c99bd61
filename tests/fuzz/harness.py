"""Read a fuzzed file; only the project's own errors may come out, and what is read is sane."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from harmonize.errors import HarmonizeError
from harmonize.readers import ReadOptions, SourceBatch, reader_for
from harmonize.readers.base import Reader


def read(path: Path, options: ReadOptions, reader: Reader | None = None) -> list[SourceBatch]:
    """Every batch, or ``[]`` when the reader refuses the file with a :class:`HarmonizeError`.

    Any other exception fails the harness. So does a batch that breaks the reader contract.
    """
    try:
        chosen = reader or reader_for(path)
        batches = list(chosen.read(path, options))
    except HarmonizeError as exc:
        str(exc)  # the message must render
        return []
    check(batches, options)
    return batches


# the columns of readers that hand out whole documents (JSON text), not cells
DOCUMENTS = (
    ["document"],
    ["document", "document_file"],  # a directory of Phenopackets
    ["document", "document_line"],  # Beacon individuals
    ["resource", "resource_type", "path", "group", "full_url"],  # FHIR resources
    ["table", "file", "person_id", "record"],  # OMOP CDM records of whole persons
)
JSON_COLUMNS = ("document", "resource")  # each value is a JSON document


def strings(value: Any) -> Iterator[str]:
    """Every key and string in a parsed JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, child in value.items():
            yield key
            yield from strings(child)
    elif isinstance(value, list):
        for child in value:
            yield from strings(child)


def check(batches: list[SourceBatch], options: ReadOptions) -> None:
    limits = options.limits
    last = 0
    for batch in batches:
        assert batch.table.num_rows == len(batch.rows) > 0
        assert batch.rows.type == pa.int64()
        numbers = batch.rows.to_pylist()
        names = batch.table.column_names
        # a directory's documents are each row 1 of a file; FHIR resources share their
        # Bundle's line, and an NDJSON file's loose resources come last; OMOP records are
        # numbered in their own tables
        if "document_file" not in names and "resource" not in names and "record" not in names:
            assert numbers == sorted(set(numbers)) and numbers[0] > last, numbers
            last = numbers[-1]
        assert max(numbers) <= limits.max_rows
        assert len(names) == len(set(names))
        assert batch.headers == batches[0].headers
        assert names == batches[0].table.column_names
        if names in DOCUMENTS:  # a fixed set of columns, whatever max_columns says
            for name in JSON_COLUMNS:
                if name in names:  # no NUL handed out, not even as a \u0000 escape
                    for document in batch.table.column(name).to_pylist():
                        bad = [s for s in strings(orjson.loads(document)) if "\x00" in s]
                        assert not bad, document
            continue
        assert len(names) <= limits.max_columns
        for column in batch.table.columns:
            assert column.type == pa.string()
            for value in column.to_pylist():
                assert value is None or (value and "\x00" not in value), value
                assert value is None or len(value) <= limits.max_cell_chars
