"""The ledger: every change to the warehouse, in the registry's database.

A *publication* is one change: a submission's first version, a new version, a
withdrawal, a migration or an erasure. It gets a sequence number (``seq``) when it starts,
and becomes ``committed`` in the same database transaction that registers its DRS objects,
recording the Delta version it made of each table. That transaction is the moment the
change becomes visible: readers read every table at the versions of the newest committed
publication (or of an earlier one, for time travel), so they never see half of one.

Withdrawals are recorded without the data: the subject as a salted hash, who, when, why.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Integer,
    Select,
    String,
    Table,
    Text,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, mapped_column

from harmonize.drs.models import Base, UTCDateTime


class PublicationRow(Base):
    """One change to the warehouse."""

    __tablename__ = "publications"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # publish | withdraw | migrate | erase
    status: Mapped[str] = mapped_column(String(16))  # pending | committed
    submission_id: Mapped[str | None] = mapped_column(String(255), index=True, default=None)
    version: Mapped[int | None] = mapped_column(Integer, default=None)  # the submission's version
    manifest_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    version_sha256: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    bundle_id: Mapped[str | None] = mapped_column(String(128), default=None)
    dataset: Mapped[str | None] = mapped_column(String(255), default=None)
    table_versions: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # rows per table, diff
    started_time: Mapped[datetime] = mapped_column(UTCDateTime)
    committed_time: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    note: Mapped[str | None] = mapped_column(Text, default=None)


class WithdrawalRow(Base):
    """A participant's withdrawal: ids and times, never the data."""

    __tablename__ = "withdrawals"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    dataset: Mapped[str] = mapped_column(String(255), index=True)
    subject_hash: Mapped[str] = mapped_column(String(64), index=True)  # see subject_hash()
    by: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    seq: Mapped[int | None] = mapped_column(BigInteger, default=None)  # its publication
    rows: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)  # rows removed per table
    objects: Mapped[int] = mapped_column(Integer, default=0)  # DRS objects tombstoned
    created_time: Mapped[datetime] = mapped_column(UTCDateTime)
    erased_time: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class SubjectObjectRow(Base):
    """Which DRS object (a Phenopacket) holds which subject, in each submission version.

    The subject is a salted hash, as in withdrawals: this index lets a withdrawal find
    every version's Phenopacket of a subject without reading every old table snapshot.
    """

    __tablename__ = "subject_objects"

    object_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    dataset: Mapped[str] = mapped_column(String(255))
    subject_hash: Mapped[str] = mapped_column(String(64), index=True)
    submission_id: Mapped[str] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(Integer)


_PUBLICATIONS: Table = PublicationRow.__table__  # type: ignore[assignment]
_SUBJECTS: Table = SubjectObjectRow.__table__  # type: ignore[assignment]
_WITHDRAWALS: Table = WithdrawalRow.__table__  # type: ignore[assignment]


# -- writing (inside a registry transaction) ------------------------------------------


def begin(
    conn: Connection,
    kind: str,
    *,
    submission_id: str | None = None,
    version: int | None = None,
    manifest_sha256: str | None = None,
    version_sha256: str | None = None,
    bundle_id: str | None = None,
    dataset: str | None = None,
    note: str | None = None,
) -> int:
    """Start a publication: its sequence number (the Delta app-transaction version)."""
    result = conn.execute(
        insert(_PUBLICATIONS).values(
            kind=kind,
            status="pending",
            submission_id=submission_id,
            version=version,
            manifest_sha256=manifest_sha256,
            version_sha256=version_sha256,
            bundle_id=bundle_id,
            dataset=dataset,
            table_versions={},
            counts={},
            started_time=datetime.now(UTC),
            note=note,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def commit(
    conn: Connection, seq: int, table_versions: dict[str, int], counts: dict[str, Any]
) -> None:
    """Make publication ``seq`` the current one (idempotent)."""
    conn.execute(
        update(_PUBLICATIONS)
        .where(_PUBLICATIONS.c.seq == seq)
        .values(
            status="committed",
            table_versions=table_versions,
            counts=counts,
            committed_time=func.coalesce(_PUBLICATIONS.c.committed_time, datetime.now(UTC)),
        )
    )


SUBJECT_COLUMNS = ("object_id", "dataset", "subject_hash", "submission_id", "version")


def index_subjects(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Record which object holds which subject (rows of :class:`SubjectObjectRow`)."""
    index_subject_rows(conn, [tuple(row[c] for c in SUBJECT_COLUMNS) for row in rows])


def index_subject_rows(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """:func:`index_subjects` of rows given as tuples of :data:`SUBJECT_COLUMNS`."""
    from harmonize.drs.bulk import insert_ignore_rows

    for start in range(0, len(rows), 5000):
        insert_ignore_rows(
            conn, _SUBJECTS, SUBJECT_COLUMNS, rows[start : start + 5000], ("object_id",)
        )


def subject_objects(session: Session, dataset: str, subject_hash: str) -> list[SubjectObjectRow]:
    """Every indexed Phenopacket object of a subject, in every version."""
    return list(
        session.scalars(
            select(SubjectObjectRow).where(
                SubjectObjectRow.dataset == dataset, SubjectObjectRow.subject_hash == subject_hash
            )
        )
    )


def abandon(conn: Connection, seqs: list[int]) -> None:
    """Mark pending publications that never got a journal: nothing of them was committed."""
    if seqs:
        conn.execute(
            update(_PUBLICATIONS)
            .where(_PUBLICATIONS.c.seq.in_(seqs), _PUBLICATIONS.c.status == "pending")
            .values(status="abandoned")
        )


def subject_hash(dataset: str, subject_id: str) -> str:
    """How a withdrawn subject is kept: a salted hash, never the id itself.

    >>> subject_hash("d", "P1") == subject_hash("d", "P1") != subject_hash("e", "P1")
    True
    """
    return hashlib.sha256(subject_hash_prefix(dataset) + subject_id.encode()).hexdigest()


def subject_hash_prefix(dataset: str) -> bytes:
    """What :func:`subject_hash` hashes before the subject id (its salt and dataset)."""
    return f"harmonize-withdrawal\0{dataset}\0".encode()


# -- reading ----------------------------------------------------------------------------


def _row(session: Session, query: Select[PublicationRow]) -> PublicationRow | None:
    return session.scalars(query.limit(1)).first()


def latest(session: Session) -> PublicationRow | None:
    """The current publication: the newest committed one."""
    return _row(
        session,
        select(PublicationRow)
        .where(PublicationRow.status == "committed")
        .order_by(PublicationRow.seq.desc()),
    )


def first(session: Session) -> PublicationRow | None:
    """The oldest committed publication."""
    return _row(
        session,
        select(PublicationRow)
        .where(PublicationRow.status == "committed")
        .order_by(PublicationRow.seq),
    )


def at(session: Session, seq: int) -> PublicationRow | None:
    """The newest committed publication at or before ``seq``."""
    return _row(
        session,
        select(PublicationRow)
        .where(PublicationRow.status == "committed", PublicationRow.seq <= seq)
        .order_by(PublicationRow.seq.desc()),
    )


def at_time(session: Session, when: datetime) -> PublicationRow | None:
    """The newest publication committed at or before ``when``."""
    return _row(
        session,
        select(PublicationRow)
        .where(PublicationRow.status == "committed", PublicationRow.committed_time <= when)
        .order_by(PublicationRow.seq.desc()),
    )


def pending(session: Session) -> list[PublicationRow]:
    """Publications started but neither committed nor abandoned."""
    return list(
        session.scalars(
            select(PublicationRow)
            .where(PublicationRow.status == "pending")
            .order_by(PublicationRow.seq)
        )
    )


def version_of_bundle(session: Session, bundle_id: str) -> int | None:
    """The version a committed publication's bundle holds (None: no such publication)."""
    return session.scalar(
        select(PublicationRow.version).where(
            PublicationRow.bundle_id == bundle_id, PublicationRow.status == "committed"
        )
    )


def versions(session: Session, submission_id: str) -> list[PublicationRow]:
    """The committed versions of a submission, oldest first."""
    return list(
        session.scalars(
            select(PublicationRow)
            .where(
                PublicationRow.submission_id == submission_id,
                PublicationRow.kind.in_(("publish", "migrate")),
                PublicationRow.status == "committed",
            )
            .order_by(PublicationRow.version)
        )
    )


def history(session: Session, limit: int = 100) -> list[PublicationRow]:
    """The newest committed publications, newest first."""
    return list(
        session.scalars(
            select(PublicationRow)
            .where(PublicationRow.status == "committed")
            .order_by(PublicationRow.seq.desc())
            .limit(limit)
        )
    )


def withdrawn(session: Session, dataset: str) -> set[str]:
    """The subject hashes withdrawn from a dataset."""
    return set(
        session.scalars(select(WithdrawalRow.subject_hash).where(WithdrawalRow.dataset == dataset))
    )
