"""What registering DRS objects and bundles writes, inside the transaction the registry opens.

:class:`~harmonize.drs.registry.Registry` opens one write transaction per registration
and hands its connection to :func:`register_objects` (objects given as a list, a bundle
given with its member ids) or :func:`register_stream` (a bundle whose members are read
from an iterable, in chunks, in memory bounded by the chunk size). Both insert-or-ignore,
so a replay changes nothing. A bundle's checksum and size follow the DRS rule
(:func:`bundle_checksum`) and are fixed when it is registered; members that share a name
get unique names (:func:`member_name`).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Table, Text, case, delete, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from harmonize.allocation import gc_paused
from harmonize.drs.bulk import IN_CHUNK, batched, chunked, insert_ignore, insert_ignore_rows
from harmonize.drs.models import BundleMember, DrsObjectRow
from harmonize.drs.specs import BundleHeader, BundleSpec, ObjectSpec

__all__ = [
    "bundle_checksum",
    "member_name",
    "member_totals",
    "register_objects",
    "register_stream",
    "unique_member_names",
    "unique_specs",
]

_OBJECTS: Table = DrsObjectRow.__table__  # type: ignore[assignment]
_MEMBERS: Table = BundleMember.__table__  # type: ignore[assignment]


def bundle_checksum(member_sha256s: Iterable[str]) -> str:
    """DRS bundle checksum: sha-256 over the sorted, concatenated member sha-256 hex strings.

    >>> bundle_checksum(["bb", "aa"]) == hashlib.sha256(b"aabb").hexdigest()
    True
    """
    return hashlib.sha256("".join(sorted(member_sha256s)).encode("ascii")).hexdigest()


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


def register_objects(
    conn: Connection, by_id: dict[str, ObjectSpec], bundle: BundleSpec | None = None
) -> None:
    """Insert the objects (by id, see :func:`unique_specs`) and, optionally, their bundle."""
    _insert_objects(conn, by_id)
    if bundle is not None:
        _register_bundle(conn, bundle, by_id)


def register_stream(
    conn: Connection, objects: Iterable[ObjectSpec], bundle: BundleHeader, chunk: int
) -> int:
    """Insert a bundle whose members are exactly ``objects``, ``chunk`` at a time.

    See :meth:`harmonize.drs.registry.Registry.register_stream`; returns the member count.
    The garbage collector is paused meanwhile (rows are acyclic; see
    :func:`harmonize.allocation.gc_paused`).
    """
    with gc_paused():
        return _register_stream(conn, objects, bundle, chunk)


def _register_stream(
    conn: Connection, objects: Iterable[ObjectSpec], bundle: BundleHeader, chunk: int
) -> int:
    if _bundle_registered(conn, bundle.id):
        return _check_replayed_stream(conn, bundle.id, objects, chunk)
    # member rows without their bundle row cannot survive a transaction; drop any
    # anyway, so the members are exactly the streamed objects
    conn.execute(delete(_MEMBERS).where(_MEMBERS.c.bundle_id == bundle.id))
    streamed = 0
    for specs in chunked(objects, chunk):
        by_id = _stream_chunk(specs, bundle.id)
        _insert_objects(conn, by_id)
        # names as given; the members table has no unique (bundle_id, name)
        # constraint (its key is bundle_id, member_id), so shared names may sit
        # side by side until unique_member_names renames them below
        member_rows = [(bundle.id, member_id, spec.name) for member_id, spec in by_id.items()]
        insert_ignore_rows(conn, _MEMBERS, _MEMBER_COLUMNS, member_rows, _MEMBER_COLUMNS[:2])
        streamed += len(by_id)
    count, size, checksum = member_totals(conn, bundle.id, chunk)
    if count != streamed:  # an id of one chunk came again in a later chunk
        raise ValueError(
            f"bundle {bundle.id}: {streamed - count} DRS id(s) streamed more than once"
        )
    unique_member_names(conn, bundle.id)
    insert_ignore(conn, _OBJECTS, [_bundle_row(bundle, checksum, size)], ("id",))
    return streamed


_OBJECT_COLUMNS = (
    "id",
    "name",
    "description",
    "size",
    "created_time",
    "updated_time",
    "version",
    "mime_type",
    "sha256",
    "path",
    "submission_id",
    "dataset",
    "access",
    "role",
    "is_bundle",
    "aliases",
    "deleted",
    "consent",
)
_MEMBER_COLUMNS = ("bundle_id", "member_id", "name")


def _insert_objects(conn: Connection, by_id: dict[str, ObjectSpec]) -> None:
    """Insert-or-ignore the objects' rows, built as tuples (one per object, no dict)."""
    rows = [
        (
            spec.id,
            spec.name,
            spec.description,
            spec.size,
            spec.created_time,
            spec.created_time,
            spec.version or spec.sha256,
            spec.mime_type,
            spec.sha256,
            spec.path,
            spec.submission_id,
            spec.dataset,
            spec.access,
            spec.role,
            False,
            spec.aliases,  # a tuple: hashable, stored as a JSON list
            False,
            # a tuple too (stored as the same JSON list): its bind conversion is cached
            None if spec.consent is None else tuple(spec.consent),
        )
        for spec in by_id.values()
    ]
    insert_ignore_rows(conn, _OBJECTS, _OBJECT_COLUMNS, rows, ("id",))


def unique_specs(specs: Iterable[ObjectSpec], *, repeats: bool) -> dict[str, ObjectSpec]:
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
    by_id = unique_specs(specs, repeats=False)
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
        "version": getattr(bundle, "version", None) or checksum,
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
        "consent": list(c) if (c := getattr(bundle, "consent", None)) is not None else None,
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


def member_totals(conn: Connection, bundle_id: str, batch: int) -> tuple[int, int, str]:
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


def unique_member_names(conn: Connection, bundle_id: str) -> None:
    """Rename members that share a name in their bundle as :func:`member_name` does: one
    aggregate query finds the shared names (most bundles have none), then one UPDATE per
    chunk of them touches only those rows.

    Not one UPDATE with the aggregate as its subquery: PostgreSQL planned that as a nested
    loop over the rows just inserted (statistics not yet gathered), which took minutes at
    20,000 members and more than ten at 100,000.
    """
    members = _MEMBERS
    name, member_id = members.c.name, members.c.member_id
    shared = list(
        conn.execute(
            select(name)
            .where(members.c.bundle_id == bundle_id)
            .group_by(name)
            .having(func.count() > 1)
        ).scalars()
    )
    find = func.strpos if conn.dialect.name == "postgresql" else func.instr
    dot = find(name, ".")  # 1-based position of the first dot, 0 when there is none
    stem = func.substr(name, 1, dot - 1, type_=Text)
    suffix = func.substr(name, dot, type_=Text)  # from the dot on
    renamed = case(
        (dot > 1, stem.concat(".").concat(member_id).concat(suffix)),
        else_=name.concat(".").concat(member_id),  # no dot, or nothing before it
    )
    for chunk in batched(shared, IN_CHUNK):
        conn.execute(
            update(members)
            .where(members.c.bundle_id == bundle_id, name.in_(chunk))
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
