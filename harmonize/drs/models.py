"""SQLAlchemy tables of the DRS registry: one row per DRS object, one per bundle member.

Bundles are rows too (``is_bundle``): their ``sha256`` is the DRS bundle checksum and
their ``size`` the sum of their members' sizes, both fixed when the bundle is registered.
Timestamps are stored and returned as timezone-aware UTC on every backend.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    String,
    Text,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

Access = Literal["public", "controlled"]
Role = Literal["input", "published", "report"]
ACCESS_VALUES: tuple[Access, ...] = ("public", "controlled")
ROLE_VALUES: tuple[Role, ...] = ("input", "published", "report")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that goes in as any aware datetime and comes out aware, in UTC.

    SQLite keeps no offset, so values are stored as naive UTC and tagged on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"timestamp without a timezone: {value!r}")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime from the database, got {value!r}")
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of the registry tables."""


class DrsObjectRow(Base):
    """A DRS object (a file) or a DRS bundle (a submission's files)."""

    __tablename__ = "drs_objects"
    __table_args__ = (
        CheckConstraint("access IN ('public', 'controlled')", name="ck_drs_objects_access"),
        CheckConstraint(
            "role IS NULL OR role IN ('input', 'published', 'report')", name="ck_drs_objects_role"
        ),
    )

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    size: Mapped[int] = mapped_column(BigInteger)
    created_time: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_time: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[str | None] = mapped_column(String(128), default=None)
    mime_type: Mapped[str | None] = mapped_column(String(255), default=None)
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str | None] = mapped_column(Text, default=None)  # relative to the workspace
    submission_id: Mapped[str] = mapped_column(String(255), index=True)
    dataset: Mapped[str] = mapped_column(String(255))
    access: Mapped[str] = mapped_column(String(16))
    role: Mapped[str | None] = mapped_column(String(16), default=None)  # None for bundles
    is_bundle: Mapped[bool] = mapped_column(Boolean, default=False)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # why a deleted object is gone: "deleted" (the admin API) or "withdrawn" (a participant)
    tombstone: Mapped[str | None] = mapped_column(String(16), default=None)
    # the bundle of the submission version that replaced this one's
    superseded_by: Mapped[str | None] = mapped_column(String(128), default=None)
    consent: Mapped[list[str] | None] = mapped_column(JSON, default=None)  # DUO codes

    def __repr__(self) -> str:
        kind = "bundle" if self.is_bundle else "object"
        return f"<DrsObjectRow {kind} {self.id} {self.name!r}>"


class BundleMember(Base):
    """One entry of a bundle's ``contents``: the member's id and its name in the bundle."""

    __tablename__ = "drs_bundle_members"

    bundle_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
