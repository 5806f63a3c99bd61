"""Bring a database to the newest schema revision, once, even when many processes try.

:func:`upgrade` is what every store calls instead of ``create_all``. When the database is
at the head revision already it costs one query, and nothing at all the next time in the
same process for a server database: a database never goes down a revision, so a process
remembers which server databases (by URL) it found at head. A SQLite file is checked
every time (one local query): a file deleted and created anew may get the old one's
inode number, so nothing about the file identifies it reliably.
Otherwise it takes a lock that spans processes and runs the Alembic migrations under it,
in one transaction: a PostgreSQL transaction-level advisory lock, or SQLite's write lock
(``BEGIN IMMEDIATE``, waiting for the busy timeout). The second process to arrive finds
the work done.

>>> from sqlalchemy import create_engine, inspect
>>> engine = create_engine("sqlite://")
>>> current_revision(engine) is None
True
>>> upgrade(engine)
>>> upgrade(engine)  # idempotent
>>> current_revision(engine) == head_revision()
True
>>> "drs_objects" in inspect(engine).get_table_names()
True
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from harmonize.errors import RegistryError

__all__ = ["MIGRATIONS", "alembic_config", "current_revision", "head_revision", "upgrade"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# the pg_advisory_xact_lock key: any fixed 64-bit number, the same in every process
_ADVISORY_KEY = 0x2F1E_6A53_9C0B_7D41
_IN_PROCESS = threading.Lock()
# the databases this process found (or brought) at head: see _at_head_key
_KNOWN_AT_HEAD: set[Hashable] = set()


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config for the migrations shipped in the package (no ini file)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest revision id of the shipped migrations."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package ships at least one revision
        raise RuntimeError(f"no migrations in {MIGRATIONS}")
    return head


def current_revision(target: str | Engine) -> str | None:
    """The revision the database is at; None for a database never migrated."""
    with _engine(target) as engine, _translate(engine), engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(target: str | Engine, revision: str = "head") -> None:
    """Migrate the database at ``target`` (a URL or an engine) up to ``revision``.

    Idempotent and safe when several processes call it at once. Tables made by
    ``create_all`` before migrations existed are adopted by the first revision. Raises
    :class:`~harmonize.errors.RegistryError` (transient) when the database is unreachable.
    """
    if revision == "head" and _known_at_head(target):
        return
    with _engine(target) as engine, _translate(engine):
        if revision == "head" and _at_head(engine):
            _remember_at_head(engine.url)
            return
        # Alembic's ``context``/``op`` are module-wide proxies: one run per process at a time
        with _IN_PROCESS, _locked(engine) as conn:
            config = alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
        if revision == "head":
            _remember_at_head(engine.url)


def _at_head(engine: Engine) -> bool:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_heads() == (head_revision(),)


def _at_head_key(url: URL) -> Hashable | None:
    """What identifies the database at ``url`` for the at-head memo; None: do not memoize.

    A server database by its URL. SQLite never: a file deleted and created anew (a reset
    workspace) was seen to get the deleted file's inode number 49 times in 50 on ext4, so
    (device, inode) would call a new, unmigrated file "at head".
    """
    if url.get_backend_name() == "sqlite":
        return None
    return url


def _known_at_head(target: str | Engine) -> bool:
    url = target.url if isinstance(target, Engine) else make_url(target)
    key = _at_head_key(url)
    return key is not None and key in _KNOWN_AT_HEAD


def _remember_at_head(url: URL) -> None:
    key = _at_head_key(url)
    if key is not None:
        _KNOWN_AT_HEAD.add(key)


@contextmanager
def _locked(engine: Engine) -> Iterator[Connection]:
    """A transaction holding the migration lock; committed (and the lock released) on exit."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_KEY})
        yield conn
        conn.commit()


@contextmanager
def _engine(target: str | Engine) -> Iterator[Engine]:
    """The engine given, or a short-lived one for a URL (disposed on exit)."""
    if isinstance(target, Engine):
        yield target
        return
    url = make_url(target)
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            folder = Path(database).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise RegistryError(
                    f"cannot create the database folder {folder}: {exc}",
                    hint="check the workspace path and its permissions",
                ) from exc
        engine = create_engine(url, connect_args={"timeout": 30})
    else:
        engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def _translate(engine: Engine) -> Iterator[None]:
    try:
        yield
    except (OperationalError, PoolTimeoutError) as exc:
        reason = getattr(exc, "orig", None) or exc
        shown = engine.url.render_as_string(hide_password=True)
        raise RegistryError(
            f"schema migration of {shown} failed: {reason}",
            hint="retry later; check that the database is reachable",
        ) from exc
