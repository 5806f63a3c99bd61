"""Column-wise helpers of :func:`harmonize.mapping.phenopackets.build_documents`.

A batch's phenotypic features are about ten rows per individual, and the same
(term, excluded, onset, resolution) recurs across thousands of individuals. Rather than a
Python step per row (a tuple of its values, a dict look-up, an append), the rows get
their document and their distinct annotation as numbers with pyarrow and numpy; Python
builds one dict per distinct annotation and hands each document its list in one slice.
The documents are the same, in the same order, each list in its table's row order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

Ints = np.ndarray[Any, np.dtype[np.int64]]
# codes are compacted before a product of distinct counts could pass 2**62
_CODE_LIMIT = 1 << 62


def document_rows(table: pa.Table, first: pa.Array, ordinal: Ints) -> Ints:
    """Each row's document (its position among the documents), -1 where it has none.

    ``first`` are the individuals' phenopacket ids, ``ordinal`` the document of each
    individuals row that makes one (-1 for the others): a row belongs to the document of
    the first individuals row with its id.
    """
    at = pc.index_in(table.column("phenopacket_id"), value_set=first, skip_nulls=True)
    rows = pc.fill_null(at, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    out = np.full(len(rows), -1, dtype=np.int64)
    found = rows >= 0
    out[found] = ordinal[rows[found]]
    return out


def distinct_rows(table: pa.Table, names: Sequence[str]) -> tuple[Ints, Ints]:
    """Which rows share their values of ``names``: (a code per row, the first row of each
    code), codes numbered 0.. in no particular order. Nulls are values like any other."""
    n = table.num_rows
    code = np.zeros(n, dtype=np.int64)
    width = 1
    for name in names:
        column = table.column(name)
        if column.null_count == n:
            continue  # the same (null) everywhere
        encoded = pc.dictionary_encode(column.combine_chunks())
        values = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
        size = len(encoded.dictionary) + 1
        if width * size >= _CODE_LIMIT:
            _, code = np.unique(code, return_inverse=True)
            width = int(code.max()) + 1 if n else 1
        code = code * size + (values.astype(np.int64) + 1)
        width *= size
    _, first, inverse = np.unique(code, return_index=True, return_inverse=True)
    return inverse.astype(np.int64).reshape(-1), first.astype(np.int64)


def grouped(
    docs: Ints, keep: np.ndarray[Any, np.dtype[np.bool_]], values: Callable[[Ints], list[Any]]
) -> Iterator[tuple[int, list[Any]]]:
    """(document, its values in row order) for each document that has kept rows.

    ``docs`` is each row's document (see :func:`document_rows`), ``keep`` which rows
    count, ``values(rows)`` the values of those rows, in that order.
    """
    rows = np.flatnonzero(keep & (docs >= 0))
    if not len(rows):
        return
    by_doc = rows[np.argsort(docs[rows], kind="stable")]
    owners = docs[by_doc]
    present, starts = np.unique(owners, return_index=True)
    items = values(by_doc)
    stops = [*starts[1:].tolist(), len(by_doc)]
    for doc, start, stop in zip(present.tolist(), starts.tolist(), stops, strict=True):
        yield doc, items[start:stop]
