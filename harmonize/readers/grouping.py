"""Batches that never split a run of rows with the same key (``ReadOptions.group_by``).

A ``tabular`` file in ``layout: long`` has many rows per individual, which must be mapped
together. :func:`keep_together` re-cuts a reader's batches so that the rows of one key
that stand together in the file end up in one batch: the trailing run of a batch's last
key is carried into the next batch. A file can then be streamed in batches of about
``batch_size`` rows (plus one individual's rows), in the read stage, so every process that
maps batches sees the same cuts. A key that comes back after its batch was handed out
(the file is not grouped by it) cannot be merged any more: that is a :class:`ReadError`
naming the row, the column and the value, and saying to sort the file. Within one batch
the rows of a key may stand anywhere (a file of one batch needs no sorting).

>>> import pyarrow as pa
>>> def batch(keys, first):
...     return SourceBatch("f.csv", pa.table({"id": keys}), pa.array(range(first, first + len(keys))))
>>> cut = keep_together(iter([batch(["a", "b", "b"], 2), batch(["b", "c"], 5)]), "id")
>>> [b.table.column("id").to_pylist() for b in cut]
[['a'], ['b', 'b', 'b', 'c']]
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from harmonize.errors import ReadError
from harmonize.readers.base import SourceBatch


def _concat(first: SourceBatch, second: SourceBatch) -> SourceBatch:
    table = pa.concat_tables([first.table, second.table], promote_options="default")
    rows = pa.concat_arrays([first.rows, second.rows])
    return SourceBatch(second.file, table, rows, second.sheet, second.headers or first.headers)


def _slice(batch: SourceBatch, start: int, stop: int) -> SourceBatch:
    n = stop - start
    return SourceBatch(
        batch.file,
        batch.table.slice(start, n),
        batch.rows.slice(start, n),
        batch.sheet,
        batch.headers,
    )


def _check(batch: SourceBatch, column: str, done: set[str]) -> None:
    """Raise if a key of ``batch`` was in a batch handed out before; then remember them."""
    keys = batch.table.column(column).to_pylist()
    for i, key in enumerate(keys):
        if key is not None and key in done:
            raise ReadError(
                f"the rows of {key!r} are not together: this row comes after rows of other "
                "individuals that were already read (layout: long maps an individual's rows "
                "together)",
                file=batch.file,
                sheet=batch.sheet,
                row=batch.rows[i].as_py(),
                column=column,
                value=str(key),
                hint=f"sort the file by {column!r}, so that each individual's rows stand "
                "together, and send it again",
            )
    done.update(k for k in keys if k is not None)


def _cut(batch: SourceBatch, column: str) -> tuple[SourceBatch | None, SourceBatch]:
    """``batch`` as (the rows before its last key's trailing run or None, that run)."""
    n = batch.num_rows
    keys = batch.table.column(column)
    last = keys[n - 1]
    same = pc.fill_null(pc.equal(keys, last), False) if last.is_valid else pc.is_null(keys)
    differ = np.flatnonzero(~same.to_numpy(zero_copy_only=False))
    start = int(differ[-1]) + 1 if len(differ) else 0  # where the last key's run begins
    return (_slice(batch, 0, start) if start else None), _slice(batch, start, n)


def keep_together(batches: Iterator[SourceBatch], column: str) -> Iterator[SourceBatch]:
    """``batches`` re-cut so that no run of equal ``column`` values spans two of them.

    A batch is held until the next one comes: its last key's rows then go on with the
    next batch; the last batch is handed out whole.
    """
    pending: SourceBatch | None = None
    done: set[str] = set()
    for batch in batches:
        if pending is None or pending.num_rows == 0 or column not in batch.table.column_names:
            if pending is not None:
                out = pending
                if column in out.table.column_names:
                    _check(out, column, done)
                yield out
            pending = batch
            continue
        head, tail = _cut(pending, column)
        if head is not None:
            _check(head, column, done)
            yield head
        pending = _concat(tail, batch)
    if pending is not None:
        if column in pending.table.column_names:
            _check(pending, column, done)
        yield pending
