"""Alembic environment of Harmonize: runs on the connection :func:`harmonize.db.upgrade`
hands over (``config.attributes["connection"]``), or on ``sqlalchemy.url`` otherwise.

Importing this file outside Alembic (a doctest collector does) runs nothing. Upgrading
needs no models: autogenerate compares with the :class:`~sqlalchemy.MetaData` given as
``config.attributes["target_metadata"]`` (``tests/db/models.py`` gathers every table).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import MetaData, create_engine
from sqlalchemy.engine import Connection


def _target_metadata() -> MetaData | None:
    metadata = context.config.attributes.get("target_metadata")
    return metadata if isinstance(metadata, MetaData) else None


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=_target_metadata(),
        render_as_batch=connection.dialect.name == "sqlite",  # ALTER TABLE by table copy
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if isinstance(connection, Connection):
        _run(connection)
        return
    if context.is_offline_mode():
        context.configure(
            url=config.get_main_option("sqlalchemy.url"),
            target_metadata=_target_metadata(),
            literal_binds=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(str(config.get_main_option("sqlalchemy.url")))
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


if getattr(context, "config", None) is not None:
    run_migrations()
