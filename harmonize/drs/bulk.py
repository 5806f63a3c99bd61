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
    dialect = conn.dialect.name
    if dialect == "sqlite":
        _sqlite_insert_ignore(conn, table, rows)
        return
    if dialect == "postgresql":
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


def _sqlite_insert_ignore(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """``INSERT ... ON CONFLICT DO NOTHING`` as one DBAPI executemany of tuples.

    The statement is compiled once and each column's own bind processor converts the
    values, which skips SQLAlchemy's per-row parameter handling (several times faster).
    """
    keys = list(rows[0])
    compiled = (
        sqlite_insert(table)
        .on_conflict_do_nothing()
        .compile(dialect=conn.dialect, column_keys=keys)
    )
    order = list(compiled.positiontup or ())
    if sorted(order) != sorted(keys):
        raise RuntimeError(f"unexpected bind parameters for {table.name}: {order}")
    dialect = conn.dialect
    converters = [table.c[key].type.dialect_impl(dialect).bind_processor(dialect) for key in order]
    for chunk in batched(rows, CHUNK):
        columns = [
            _convert_column([row[key] for row in chunk], convert)
            for key, convert in zip(order, converters, strict=True)
        ]
        conn.exec_driver_sql(compiled.string, list(zip(*columns, strict=True)))


def _convert_column(values: list[Any], convert: Any) -> list[Any]:
    """Apply a bind processor to a column's values, once per distinct hashable value."""
    if convert is None:
        return values
    cache: dict[Any, Any] = {}
    out = []
    for value in values:
        try:
            converted = cache[value]
        except KeyError:
            converted = cache[value] = convert(value)
        except TypeError:  # unhashable
            converted = convert(value)
        out.append(converted)
    return out
