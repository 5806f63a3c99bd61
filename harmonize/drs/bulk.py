"""Bulk insert-or-ignore: many rows in one ``executemany``, existing keys skipped.

SQLite and PostgreSQL use ``INSERT ... ON CONFLICT DO NOTHING``; other backends look the
keys up first. On SQLite the statement is compiled once and run as one DBAPI
``executemany`` of tuples, several times faster than SQLAlchemy's per-row handling.

>>> list(batched([1, 2, 3, 4, 5], 2))
[[1, 2], [3, 4], [5]]
>>> list(chunked(iter(range(5)), 2))  # any iterable, consumed lazily
[[0, 1], [2, 3], [4]]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from operator import itemgetter
from typing import Any, TypeVar

from sqlalchemy import Table, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

CHUNK = 10_000  # rows per executemany
IN_CHUNK = 500  # ids per IN (...) lookup

T = TypeVar("T")


def batched(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of up to ``size`` items, pulled from ``items`` one list at a time."""
    if size < 1:
        raise ValueError(f"chunk size must be positive, not {size}")
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def insert_ignore(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], key: tuple[str, ...]
) -> None:
    """Bulk insert, skipping rows whose key already exists."""
    if not rows:
        return
    if conn.dialect.name == "sqlite":
        columns = tuple(rows[0])
        pick = itemgetter(*columns)
        values = [pick(row) for row in rows] if len(columns) > 1 else [(pick(r),) for r in rows]
        _sqlite_insert_ignore(conn, table, columns, values)
        return
    _other_insert_ignore(conn, table, rows, key)


def insert_ignore_rows(
    conn: Connection,
    table: Table,
    columns: tuple[str, ...],
    rows: Sequence[tuple[Any, ...]],
    key: tuple[str, ...],
) -> None:
    """:func:`insert_ignore` of rows given as tuples of ``columns``' values: what a caller
    writing many rows builds fastest (no dict per row on SQLite)."""
    if not rows:
        return
    if conn.dialect.name == "sqlite":
        _sqlite_insert_ignore(conn, table, columns, rows)
        return
    _other_insert_ignore(conn, table, [dict(zip(columns, row, strict=True)) for row in rows], key)


def _other_insert_ignore(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], key: tuple[str, ...]
) -> None:
    if conn.dialect.name == "postgresql":
        statement: Any = pg_insert(table).on_conflict_do_nothing()
    else:  # other backends: look the keys up first (not safe against concurrent writers)
        columns = [table.c[name] for name in key]
        existing: set[tuple[Any, ...]] = set()
        for chunk in batched(rows, IN_CHUNK):
            values = {tuple(row[name] for name in key) for row in chunk}
            lookup = select(*columns).where(columns[0].in_({v[0] for v in values}))
            existing.update(tuple(found) for found in conn.execute(lookup))
        rows = [row for row in rows if tuple(row[name] for name in key) not in existing]
        statement = insert(table)
    for chunk in batched(rows, CHUNK):
        conn.execute(statement, list(chunk))


def _sqlite_insert_ignore(
    conn: Connection, table: Table, keys: tuple[str, ...], rows: Sequence[tuple[Any, ...]]
) -> None:
    """``INSERT ... ON CONFLICT DO NOTHING`` as one DBAPI executemany of tuples.

    The statement is compiled once and each column's own bind processor converts the
    values, which skips SQLAlchemy's per-row parameter handling (several times faster).
    ``rows`` are tuples of the ``keys`` columns' values.
    """
    compiled = (
        sqlite_insert(table)
        .on_conflict_do_nothing()
        .compile(dialect=conn.dialect, column_keys=list(keys))
    )
    order = list(compiled.positiontup or ())
    if sorted(order) != sorted(keys):
        raise RuntimeError(f"unexpected bind parameters for {table.name}: {order}")
    dialect = conn.dialect
    at = [keys.index(key) for key in order]
    converters = [table.c[key].type.dialect_impl(dialect).bind_processor(dialect) for key in order]
    for chunk in batched(rows, CHUNK):
        columns = list(zip(*chunk, strict=True))
        params = [
            _convert_column(columns[i], convert) for i, convert in zip(at, converters, strict=True)
        ]
        conn.exec_driver_sql(compiled.string, list(zip(*params, strict=True)))


def _convert_column(values: Sequence[Any], convert: Any) -> Sequence[Any]:
    """Apply a bind processor to a column's values, once per distinct hashable value."""
    if convert is None:
        return values
    try:
        cache = {value: convert(value) for value in set(values)}
    except TypeError:  # an unhashable value: one call each
        return [convert(value) for value in values]
    return [cache[value] for value in values]
