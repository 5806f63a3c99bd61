"""The DRS registry: which files exist, where they live and who may read them.

Registration is one transaction and idempotent: registering the same ids again changes
nothing (insert-or-ignore on SQLite and PostgreSQL, bulk ``executemany``), so a replayed
submission cannot create duplicates. A bundle's checksum and size follow the DRS rule
and are fixed when it is registered. :meth:`Registry.register_stream` registers a bundle
and its members from an iterable, in chunks, in memory bounded by the chunk size. What a
registration writes is :mod:`harmonize.drs.registration`'s; this module opens the
database, its transactions, and reads.

>>> from harmonize.drs.ids import bundle_id, drs_id
>>> from harmonize.drs.registration import bundle_checksum
>>> registry = Registry("sqlite://")
>>> registry.create_all()
>>> digest = "ab" * 32
>>> obj = ObjectSpec(id=drs_id("s1", "a.json", digest), name="a.json", path="published/a.json",
...                  size=3, sha256=digest, mime_type="application/json", submission_id="s1",
...                  dataset="demo", access="public", role="published")
>>> bundle = BundleSpec(id=bundle_id("s1", digest), name="s1", submission_id="s1",
...                     dataset="demo", access="public", member_ids=[obj.id])
>>> registry.register([obj], bundle)
>>> registry.register([obj], bundle)  # a replay is a no-op
>>> registry.count(), registry.total_size(), registry.has_bundle(bundle.id)
(2, 3, True)
>>> registry.bundle_members(bundle.id) == [(obj.id, "a.json")]
True
>>> header = BundleHeader(id=bundle_id("s2", digest), name="s2", submission_id="s2",
...                       dataset="demo", access="public")
>>> registry.register_stream(iter([obj]), header)  # members: the streamed objects
1
>>> registry.get(header.id).sha256 == registry.get(bundle.id).sha256 == bundle_checksum([digest])
True
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Engine,
    Table,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from harmonize.drs.bulk import IN_CHUNK, batched
from harmonize.drs.models import BundleMember, DrsObjectRow
from harmonize.drs.registration import register_objects, register_stream, unique_specs
from harmonize.drs.specs import BundleHeader, BundleSpec, ObjectSpec
from harmonize.errors import RegistryError

__all__ = ["BundleHeader", "BundleSpec", "ObjectSpec", "Registry"]

_OBJECTS: Table = DrsObjectRow.__table__  # type: ignore[assignment]
_MEMBERS: Table = BundleMember.__table__  # type: ignore[assignment]
_BY_ID = select(_OBJECTS).where(_OBJECTS.c.id == bindparam("id"))


@contextmanager
def _translate(action: str) -> Iterator[None]:
    """Turn a database that cannot be reached (or is locked) into a transient RegistryError."""
    try:
        yield
    except (OperationalError, PoolTimeoutError) as exc:
        reason = getattr(exc, "orig", None) or exc
        raise RegistryError(
            f"DRS registry {action} failed: {reason}",
            hint="retry later; check that the registry database is reachable",
        ) from exc


def _sqlite_pragmas(busy_timeout_ms: int) -> Any:
    def on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    return on_connect


class Registry:
    """DRS objects in a SQL database (SQLite embedded, PostgreSQL at scale)."""

    def __init__(self, url: str, *, busy_timeout_ms: int = 30_000, echo: bool = False) -> None:
        self.url = url
        parsed = make_url(url)
        options: dict[str, Any] = {"echo": echo}
        self._sqlite = parsed.get_backend_name() == "sqlite"
        if self._sqlite:
            database = parsed.database or ""
            connect_args: dict[str, Any] = {
                "check_same_thread": False,
                "timeout": busy_timeout_ms / 1000,
            }
            if database in ("", ":memory:") or parsed.query.get("mode") == "memory":
                options["poolclass"] = StaticPool  # one shared in-memory database
            elif not database.startswith("file:"):
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            options["connect_args"] = connect_args
        else:  # one pool per process (per uvicorn worker), sized for its request threads
            options.update(pool_size=10, max_overflow=20, pool_timeout=busy_timeout_ms / 1000)
        self.engine: Engine = create_engine(url, **options)
        if self._sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas(busy_timeout_ms))
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # reads on a server database run in autocommit: one round trip per query, no
        # BEGIN/COMMIT (a lookup is one statement); same pool as the writes
        self._reader: Engine = (
            self.engine
            if self._sqlite
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self._read_sessions = sessionmaker(self._reader, expire_on_commit=False)

    def __repr__(self) -> str:
        return f"Registry({self.engine.url.render_as_string(hide_password=True)!r})"

    def create_all(self) -> None:
        """Bring the schema to the newest migration (:func:`harmonize.db.upgrade`)."""
        from harmonize.db import upgrade

        upgrade(self.engine)

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()

    chunk = 5000  # objects per round trip when a bundle's members are streamed

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction; on SQLite it takes the write lock up front (BEGIN IMMEDIATE),
        so a concurrent writer waits for the busy timeout instead of failing mid-way."""
        with self.engine.begin() as conn:
            if self._sqlite:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            yield conn

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with _translate("session"), self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def _read(self, action: str = "lookup") -> Iterator[Session]:
        """A session for reads (autocommit on PostgreSQL); nothing is written through it."""
        with _translate(action), self._read_sessions() as session:
            yield session

    # -- writing ---------------------------------------------------------------------

    def register(self, objects: Sequence[ObjectSpec], bundle: BundleSpec | None = None) -> None:
        """Register files and (optionally) their bundle in one transaction; replays are no-ops.

        Bundle members may be among ``objects`` or registered earlier; members that share
        a name are listed under ``stem.<id>.ext`` (see
        :func:`~harmonize.drs.registration.member_name`). Raises ValueError for an
        inconsistent call (unknown members, two specs with one id, a bundle id
        registered before with other members) and RegistryError when the database fails.
        """
        by_id = unique_specs(objects, repeats=True)
        with _translate("registration"), self.transaction() as conn:
            register_objects(conn, by_id, bundle)

    def register_stream(
        self, objects: Iterable[ObjectSpec], bundle: BundleHeader, *, chunk: int = 5000
    ) -> int:
        """Register a bundle whose members are exactly ``objects``, read ``chunk`` at a time.

        Returns the number of members. One transaction, like :meth:`register`, but the
        iterable is never materialized: object and member rows go in per chunk, then the
        database makes member names unique, computes the checksum and size, and the bundle
        row goes in last. A replay (the bundle id is registered) only checks that the
        stream lists exactly the bundle's members and writes nothing. Raises ValueError for
        an inconsistent stream (an id streamed twice, the bundle among its own members,
        other members than a registered bundle's) and RegistryError when the database
        fails; an exception raised by the iterable rolls everything back.

        Unlike :meth:`register`, an object id already registered contributes its stored
        row's sha-256 and size to the bundle (the row a reader is served), and an id may
        appear only once in the stream, so the outcome never depends on chunk boundaries.
        """
        if chunk < 1:
            raise ValueError(f"chunk must be positive, not {chunk}")
        with _translate("registration"), self.transaction() as conn:
            return register_stream(conn, objects, bundle, chunk)

    def supersede(self, conn: Connection, old_bundle: str, new_bundle: str) -> int:
        """Mark a submission version's bundle and its members superseded by ``new_bundle``.

        They stay resolvable (same bytes, same checksums); clients find the newer version
        from ``superseded_by``. Runs in the caller's transaction. Returns the rows changed.
        """
        members = select(_MEMBERS.c.member_id).where(_MEMBERS.c.bundle_id == old_bundle)
        result = conn.execute(
            update(_OBJECTS)
            .where(
                or_(_OBJECTS.c.id == old_bundle, _OBJECTS.c.id.in_(members)),
                _OBJECTS.c.superseded_by.is_(None),
            )
            .values(superseded_by=new_bundle, updated_time=datetime.now(UTC))
        )
        return int(result.rowcount or 0)

    def tombstone(self, conn: Connection, ids: Collection[str], reason: str) -> list[str]:
        """Tombstone objects for ``reason`` and take them out of their bundles.

        Each bundle that held one gets its checksum, size and version recomputed over the
        members left (a new version of the bundle, same id). Runs in the caller's
        transaction; returns the bundles changed.
        """
        from harmonize.drs.registration import member_totals

        now = datetime.now(UTC)
        bundles: set[str] = set()
        for chunk in batched(list(ids), IN_CHUNK):
            conn.execute(
                update(_OBJECTS)
                .where(_OBJECTS.c.id.in_(chunk), _OBJECTS.c.deleted.is_(False))
                .values(deleted=True, tombstone=reason, updated_time=now)
            )
            held = select(_MEMBERS.c.bundle_id).where(_MEMBERS.c.member_id.in_(chunk)).distinct()
            bundles.update(conn.execute(held).scalars())
            conn.execute(delete(_MEMBERS).where(_MEMBERS.c.member_id.in_(chunk)))
        for bundle in sorted(bundles):
            _, size, checksum = member_totals(conn, bundle, self.chunk)
            old = conn.execute(select(_OBJECTS.c.version).where(_OBJECTS.c.id == bundle))
            base = str(old.scalar_one_or_none() or "").split("+", 1)[0]
            conn.execute(
                update(_OBJECTS)
                .where(_OBJECTS.c.id == bundle)
                .values(
                    sha256=checksum,
                    size=size,
                    version=f"{base}+{checksum[:12]}",
                    updated_time=now,
                )
            )
        return sorted(bundles)

    def mark_deleted(self, ids: Iterable[str]) -> int:
        """Tombstone objects: they stay in the registry but resolve to 404. Returns the count."""
        wanted = list(dict.fromkeys(ids))
        changed = 0
        with _translate("deletion"), self.transaction() as conn:
            for chunk in batched(wanted, IN_CHUNK):
                result = conn.execute(
                    update(_OBJECTS)
                    .where(_OBJECTS.c.id.in_(chunk), _OBJECTS.c.deleted.is_(False))
                    .values(deleted=True, updated_time=datetime.now(UTC))
                )
                changed += result.rowcount
        return changed

    def update_metadata(self, id: str, changes: dict[str, Any]) -> DrsObjectRow | None:
        """Change descriptive fields of a live object (``name``, ``description``,
        ``mime_type``, ``aliases``); returns the updated row, None when the id is unknown
        or deleted. Bytes, checksums, paths and access are never changed here."""
        allowed = {"name", "description", "mime_type", "aliases"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"cannot change {sorted(unknown)}; only {sorted(allowed)}")
        values = {**changes, "updated_time": datetime.now(UTC)}
        with _translate("update"), self.transaction() as conn:
            result = conn.execute(
                update(_OBJECTS)
                .where(_OBJECTS.c.id == id, _OBJECTS.c.deleted.is_(False))
                .values(**values)
            )
            if result.rowcount == 0:
                return None
        return self.get(id)

    # -- reading ---------------------------------------------------------------------

    def get(self, id: str) -> DrsObjectRow | None:
        """The row for one id (deleted rows included), or None.

        One Core query and a plain (session-less) row object: the hot path of every DRS
        request, about twice as fast as an ORM ``Session.get``.
        """
        with _translate("lookup"), self._reader.connect() as conn:
            found = conn.execute(_BY_ID, {"id": id}).mappings().first()
        return None if found is None else DrsObjectRow(**found)

    def get_many(self, ids: Collection[str]) -> dict[str, DrsObjectRow]:
        """Rows by id for the ids that exist (deleted rows included)."""
        found: dict[str, DrsObjectRow] = {}
        with _translate("lookup"), self._reader.connect() as conn:
            for chunk in batched(list(dict.fromkeys(ids)), IN_CHUNK):
                query = select(_OBJECTS).where(_OBJECTS.c.id.in_(chunk))
                for row in conn.execute(query).mappings():
                    found[row["id"]] = DrsObjectRow(**row)
        return found

    def bundle_members(self, id: str) -> list[tuple[str, str]]:
        """``(member_id, name)`` pairs of a bundle, sorted by name; empty for a blob."""
        query = (
            select(_MEMBERS.c.member_id, _MEMBERS.c.name)
            .where(_MEMBERS.c.bundle_id == id)
            .order_by(_MEMBERS.c.name, _MEMBERS.c.member_id)
        )
        with _translate("lookup"), self._reader.connect() as conn:
            return [(member_id, name) for member_id, name in conn.execute(query)]

    def objects_for_submission(
        self, submission_id: str, *, include_deleted: bool = False
    ) -> list[DrsObjectRow]:
        """Every object and bundle of a submission, bundles first, then by role and name."""
        query = select(DrsObjectRow).where(DrsObjectRow.submission_id == submission_id)
        if not include_deleted:
            query = query.where(DrsObjectRow.deleted.is_(False))
        query = query.order_by(DrsObjectRow.is_bundle.desc(), DrsObjectRow.role, DrsObjectRow.name)
        with self._read() as session:
            return list(session.scalars(query))

    def iter_objects(
        self, submission_id: str | None = None, page: int = 1000
    ) -> Iterator[DrsObjectRow]:
        """Every object and bundle (deleted rows included), optionally of one submission,
        in id order, read ``page`` rows at a time (keyset pagination, one short session
        per page): memory does not grow with the registry."""
        if page < 1:
            raise ValueError(f"page must be positive, not {page}")
        after: str | None = None
        while True:
            query = select(DrsObjectRow).order_by(DrsObjectRow.id).limit(page)
            if submission_id is not None:
                query = query.where(DrsObjectRow.submission_id == submission_id)
            if after is not None:
                query = query.where(DrsObjectRow.id > after)
            with self._read() as session:
                rows = list(session.scalars(query))
            yield from rows
            if len(rows) < page:
                return
            after = rows[-1].id

    def has_bundle(self, id: str) -> bool:
        """Whether a (live or deleted) bundle with this id is registered."""
        query = select(_OBJECTS.c.id).where(_OBJECTS.c.id == id, _OBJECTS.c.is_bundle == true())
        with _translate("lookup"), self._reader.connect() as conn:
            return conn.execute(query).first() is not None

    def count(self) -> int:
        """Live DRS objects, bundles included."""
        query = select(func.count()).select_from(_OBJECTS).where(_OBJECTS.c.deleted.is_(False))
        with _translate("count"), self._reader.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def total_size(self) -> int:
        """Bytes of live files; bundles are not counted again."""
        query = select(func.coalesce(func.sum(_OBJECTS.c.size), 0)).where(
            _OBJECTS.c.deleted.is_(False), _OBJECTS.c.is_bundle.is_(False)
        )
        with _translate("size"), self._reader.connect() as conn:
            return int(conn.execute(query).scalar_one())
