"""What a revision does when the database may predate migrations: create what is missing.

Databases made with ``create_all`` before migrations existed already hold some tables;
a revision adopts them as they are and only adds the tables and indexes they lack.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import sqlalchemy as sa
from alembic import op


def create_missing(
    tables: Mapping[str, Callable[[], None]],
    indexes: Mapping[str, tuple[str, Sequence[str]]],
) -> None:
    """Call ``tables[name]()`` for each absent table; create each absent index
    (``name: (table, columns)``)."""
    inspector = sa.inspect(op.get_bind())
    existing = set(inspector.get_table_names())
    for name, create in tables.items():
        if name not in existing:
            create()
    indexed = {
        index["name"]
        for table in existing & {table for table, _ in indexes.values()}
        for index in inspector.get_indexes(table)
    }
    for index, (table, columns) in indexes.items():
        if index not in indexed:
            op.create_index(index, table, list(columns))
