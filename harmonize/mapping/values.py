"""Columnar value mapping: classify each *distinct* value once, then broadcast.

A column of a million cells usually holds a few dozen distinct values. Mapping the
dictionary of distinct values in Python and taking the results back through the
dictionary indices keeps the per-row work inside Arrow.

>>> import pyarrow as pa
>>> arr = pa.array(["M", "F", None, "M", " f "])
>>> sexes = {"M": "MALE", "F": "FEMALE"}
>>> map_distinct(arr, lambda v: sexes.get(v.strip().upper()), pa.string()).to_pylist()
['MALE', 'FEMALE', None, 'MALE', 'FEMALE']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

NA_VALUES = frozenset({"", "na", "n/a", "#n/a", "nan", "null", "none", "-", "?", "unknown"})


def as_array(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        return column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    return column


def map_distinct(
    column: pa.Array | pa.ChunkedArray, fn: Callable[[str], Any], out_type: pa.DataType
) -> pa.Array:
    """Apply ``fn`` to each distinct non-null value; nulls stay null."""
    arr = as_array(column)
    if arr.type != pa.string():
        arr = arr.cast(pa.string())
    encoded = pc.dictionary_encode(arr)
    mapped = pa.array([fn(v) for v in encoded.dictionary.to_pylist()], type=out_type)
    return mapped.take(encoded.indices)


def clean(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Trim whitespace and turn the usual missing-value spellings into nulls."""
    arr = as_array(column)
    if arr.type != pa.string():
        arr = arr.cast(pa.string())
    trimmed = pc.utf8_trim_whitespace(arr)
    is_na = pc.is_in(pc.utf8_lower(trimmed), value_set=pa.array(sorted(NA_VALUES)))
    return pc.if_else(is_na, pa.scalar(None, pa.string()), trimmed)


def column_or_nulls(table: pa.Table, name: str | None) -> pa.Array:
    if name is None or name not in table.column_names:
        return pa.nulls(table.num_rows, pa.string())
    return clean(table.column(name))
