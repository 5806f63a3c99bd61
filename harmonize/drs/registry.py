"""The DRS registry: which files exist, where they live and who may read them.

Registration is one transaction and idempotent: registering the same ids again changes
nothing (insert-or-ignore on SQLite and PostgreSQL, bulk ``executemany``), so a replayed
submission cannot create duplicates. A bundle's checksum and size follow the DRS rule
and are fixed when it is registered. :meth:`Registry.register_stream` registers a bundle
and its members from an iterable, in chunks, in memory bounded by the chunk size.

>>> from harmonize.drs.ids import bundle_id, drs_id
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

import hashlib
import sqlite3
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Engine,
    Table,
    Text,
    bindparam,
    case,
    create_engine,
    delete,
    event,
    func,
    select,
    true,
    update,
)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.elements import ColumnElement

from harmonize.drs.bulk import IN_CHUNK, batched, chunked, insert_ignore
from harmonize.drs.models import BundleMember, DrsObjectRow
from harmonize.drs.specs import BundleHeader, BundleSpec, ObjectSpec
from harmonize.errors import RegistryError

__all__ = ["BundleHeader", "BundleSpec", "ObjectSpec", "Registry", "bundle_checksum"]

_OBJECTS: Table = DrsObjectRow.__table__  # type: ignore[assignment]
_MEMBERS: Table = BundleMember.__table__  # type: ignore[assignment]
_BY_ID = select(_OBJECTS).where(_OBJECTS.c.id == bindparam("id"))


def bundle_checksum(member_sha256s: Iterable[str]) -> str:
    """DRS bundle checksum: sha-256 over the sorted, concatenated member sha-256 hex strings.

    >>> bundle_checksum(["bb", "aa"]) == hashlib.sha256(b"aabb").hexdigest()
    True
    """
    return hashlib.sha256("".join(sorted(member_sha256s)).encode("ascii")).hexdigest()


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


def member_name(name: str, member_id: str, counts: Counter[str]) -> str:
    """A member's name in its bundle: its own, made unique with its id when shared.

    DRS requires names to be unique within a bundle; two files may share a name.

    >>> member_name("a.json", "hz1", Counter({"a.json": 2}))
    'a.hz1.json'
    >>> member_name("a.json", "hz1", Counter({"a.json": 1}))
    'a.json'
    """
    if counts[name] < 2:
        return name
    stem, dot, suffix = name.partition(".")
    return f"{stem}.{member_id}{dot}{suffix}" if stem else f"{name}.{member_id}"


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


def _object_row(spec: ObjectSpec) -> dict[str, Any]:
    return {
        "id": spec.id,
        "name": spec.name,
        "description": spec.description,
        "size": spec.size,
        "created_time": spec.created_time,
        "updated_time": spec.created_time,
        "version": spec.version or spec.sha256,
        "mime_type": spec.mime_type,
        "sha256": spec.sha256,
        "path": spec.path,
        "submission_id": spec.submission_id,
        "dataset": spec.dataset,
        "access": spec.access,
        "role": spec.role,
        "is_bundle": False,
        "aliases": spec.aliases,  # a tuple: hashable, stored as a JSON list
        "deleted": False,
    }


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

    @contextmanager
    def _write(self) -> Iterator[Connection]:
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
        a name are listed under ``stem.<id>.ext`` (see :func:`member_name`). Raises ValueError
        for an inconsistent call (unknown members, two specs with one id, a bundle id
        registered before with other members) and RegistryError when the database fails.
        """
        by_id = _unique_specs(objects, repeats=True)
        rows = [_object_row(spec) for spec in by_id.values()]
        with _translate("registration"), self._write() as conn:
            insert_ignore(conn, _OBJECTS, rows, ("id",))
            if bundle is not None:
                _register_bundle(conn, bundle, by_id)

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
        with _translate("registration"), self._write() as conn:
            if _bundle_registered(conn, bundle.id):
                return _check_replayed_stream(conn, bundle.id, objects, chunk)
            # member rows without their bundle row cannot survive a transaction; drop any
            # anyway, so the members are exactly the streamed objects
            conn.execute(delete(_MEMBERS).where(_MEMBERS.c.bundle_id == bundle.id))
            streamed = 0
            for specs in chunked(objects, chunk):
                by_id = _stream_chunk(specs, bundle.id)
                insert_ignore(
                    conn, _OBJECTS, [_object_row(spec) for spec in by_id.values()], ("id",)
                )
                # names as given; the members table has no unique (bundle_id, name)
                # constraint (its key is bundle_id, member_id), so shared names may sit
                # side by side until _unique_member_names renames them below
                member_rows = [
                    {"bundle_id": bundle.id, "member_id": member_id, "name": spec.name}
                    for member_id, spec in by_id.items()
                ]
                insert_ignore(conn, _MEMBERS, member_rows, ("bundle_id", "member_id"))
                streamed += len(by_id)
            count, size, checksum = _member_totals(conn, bundle.id, chunk)
            if count != streamed:  # an id of one chunk came again in a later chunk
                raise ValueError(
                    f"bundle {bundle.id}: {streamed - count} DRS id(s) streamed more than once"
                )
            _unique_member_names(conn, bundle.id)
            insert_ignore(conn, _OBJECTS, [_bundle_row(bundle, checksum, size)], ("id",))
        return streamed

    def mark_deleted(self, ids: Iterable[str]) -> int:
        """Tombstone objects: they stay in the registry but resolve to 404. Returns the count."""
        wanted = list(dict.fromkeys(ids))
        changed = 0
        with _translate("deletion"), self._write() as conn:
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
        with _translate("update"), self._write() as conn:
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


def _unique_specs(specs: Iterable[ObjectSpec], *, repeats: bool) -> dict[str, ObjectSpec]:
    """Specs by id; an id given twice must have equal specs, and only when ``repeats``."""
    by_id: dict[str, ObjectSpec] = {}
    for spec in specs:
        previous = by_id.get(spec.id)
        if previous is None:
            by_id[spec.id] = spec
        elif previous != spec:
            raise ValueError(f"two different specs share the DRS id {spec.id}")
        elif not repeats:
            raise ValueError(f"the DRS id {spec.id} is streamed more than once")
    return by_id


def _stream_chunk(specs: Iterable[ObjectSpec], bundle_id: str) -> dict[str, ObjectSpec]:
    by_id = _unique_specs(specs, repeats=False)
    if bundle_id in by_id:
        raise ValueError(f"bundle {bundle_id}: a bundle cannot contain itself")
    return by_id


def _bundle_registered(conn: Connection, id: str) -> bool:
    query = select(_OBJECTS.c.id).where(_OBJECTS.c.id == id)
    return conn.execute(query).scalar_one_or_none() is not None


def _bundle_row(bundle: BundleHeader | BundleSpec, checksum: str, size: int) -> dict[str, Any]:
    return {
        "id": bundle.id,
        "name": bundle.name,
        "description": bundle.description,
        "size": size,
        "created_time": bundle.created_time,
        "updated_time": bundle.created_time,
        "version": checksum,
        "mime_type": None,
        "sha256": checksum,
        "path": None,
        "submission_id": bundle.submission_id,
        "dataset": bundle.dataset,
        "access": bundle.access,
        "role": None,
        "is_bundle": True,
        "aliases": list(bundle.aliases),
        "deleted": False,
    }


_ID_DIGEST_MOD = 1 << 128


def _ids_digest(ids: Iterable[str]) -> int:
    """An order-independent digest of a multiset of ids: the sum of their 128-bit hashes.

    Equal digests and counts mean the same ids (barring a 2**-128 accident), and an id
    listed twice changes the sum, so a set is compared without holding either side.
    """
    total = 0
    for id in ids:
        total += int.from_bytes(hashlib.blake2b(id.encode(), digest_size=16).digest(), "big")
    return total % _ID_DIGEST_MOD


def _check_replayed_stream(
    conn: Connection, bundle_id: str, objects: Iterable[ObjectSpec], chunk: int
) -> int:
    """The member count of a registered bundle, if ``objects`` are exactly its members."""
    streamed, digest = 0, 0
    for specs in chunked(objects, chunk):
        by_id = _stream_chunk(specs, bundle_id)
        streamed += len(by_id)
        digest = (digest + _ids_digest(by_id)) % _ID_DIGEST_MOD
    query = (
        select(_MEMBERS.c.member_id)
        .where(_MEMBERS.c.bundle_id == bundle_id)
        .execution_options(yield_per=chunk)
    )
    stored, stored_digest = 0, 0
    for partition in conn.execute(query).scalars().partitions():
        stored += len(partition)
        stored_digest = (stored_digest + _ids_digest(partition)) % _ID_DIGEST_MOD
    if (streamed, digest) != (stored, stored_digest):
        raise ValueError(f"bundle {bundle_id} is already registered with other members")
    return streamed


def _member_totals(conn: Connection, bundle_id: str, batch: int) -> tuple[int, int, str]:
    """Count, total size and DRS checksum (see :func:`bundle_checksum`) of a bundle's
    members, streamed from the database in checksum order: memory does not grow with the
    bundle."""
    sha256: ColumnElement[str] = _OBJECTS.c.sha256
    if conn.dialect.name == "postgresql":
        sha256 = _OBJECTS.c.sha256.collate("C")  # byte order, like sorted() on the hex strings
    query = (
        select(_OBJECTS.c.sha256, _OBJECTS.c.size)
        .select_from(_MEMBERS.join(_OBJECTS, _OBJECTS.c.id == _MEMBERS.c.member_id))
        .where(_MEMBERS.c.bundle_id == bundle_id)
        .order_by(sha256)
        .execution_options(yield_per=batch)  # a server-side cursor where there is one
    )
    checksum = hashlib.sha256()
    count = size = 0
    for rows in conn.execute(query).partitions():
        checksum.update("".join(row[0] for row in rows).encode("ascii"))
        count += len(rows)
        size += sum(row[1] for row in rows)
    return count, size, checksum.hexdigest()


def _unique_member_names(conn: Connection, bundle_id: str) -> None:
    """Rename members that share a name in their bundle as :func:`member_name` does, in
    one UPDATE: only the rows whose name is shared are touched and none is read back."""
    members = _MEMBERS
    others = _MEMBERS.alias("others")  # an alias, so the subquery is not correlated away
    shared = (
        select(others.c.name)
        .where(others.c.bundle_id == bundle_id)
        .group_by(others.c.name)
        .having(func.count() > 1)
    )
    name, member_id = members.c.name, members.c.member_id
    find = func.strpos if conn.dialect.name == "postgresql" else func.instr
    dot = find(name, ".")  # 1-based position of the first dot, 0 when there is none
    stem = func.substr(name, 1, dot - 1, type_=Text)
    suffix = func.substr(name, dot, type_=Text)  # from the dot on
    renamed = case(
        (dot > 1, stem.concat(".").concat(member_id).concat(suffix)),
        else_=name.concat(".").concat(member_id),  # no dot, or nothing before it
    )
    conn.execute(
        update(members)
        .where(members.c.bundle_id == bundle_id, name.in_(shared))
        .values(name=renamed)
    )


def _register_bundle(conn: Connection, bundle: BundleSpec, specs: dict[str, ObjectSpec]) -> None:
    if _bundle_registered(conn, bundle.id):
        current = set(
            conn.execute(
                select(_MEMBERS.c.member_id).where(_MEMBERS.c.bundle_id == bundle.id)
            ).scalars()
        )
        if current != set(bundle.member_ids):
            raise ValueError(f"bundle {bundle.id} is already registered with other members")
        return

    members: dict[str, tuple[str, str, int]] = {}  # id -> (name, sha256, size)
    for member_id in bundle.member_ids:
        if member_id in specs:
            spec = specs[member_id]
            members[member_id] = (spec.name, spec.sha256, spec.size)
    others = [member_id for member_id in bundle.member_ids if member_id not in members]
    for chunk in batched(others, IN_CHUNK):
        query = select(_OBJECTS.c.id, _OBJECTS.c.name, _OBJECTS.c.sha256, _OBJECTS.c.size).where(
            _OBJECTS.c.id.in_(chunk)
        )
        for member_id, name, sha256, size in conn.execute(query):
            members[member_id] = (name, sha256, size)
    missing = [member_id for member_id in bundle.member_ids if member_id not in members]
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise ValueError(f"bundle {bundle.id}: {len(missing)} member(s) not registered: {shown}")
    counts = Counter(name for name, _, _ in members.values())
    checksum = bundle_checksum(sha256 for _, sha256, _ in members.values())
    size = sum(size for _, _, size in members.values())
    insert_ignore(conn, _OBJECTS, [_bundle_row(bundle, checksum, size)], ("id",))
    member_rows = [
        {
            "bundle_id": bundle.id,
            "member_id": member_id,
            "name": member_name(members[member_id][0], member_id, counts),
        }
        for member_id in bundle.member_ids
    ]
    insert_ignore(conn, _MEMBERS, member_rows, ("bundle_id", "member_id"))
