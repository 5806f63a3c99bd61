"""Submission state: received -> processing -> published | rejected, with its history.

SQLAlchemy Core over SQLite by default, PostgreSQL when configured. One row per
submission version (id + manifest sha-256) and one row per state change.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from harmonize.errors import RegistryError

Status = Literal["received", "processing", "published", "rejected", "failed"]

metadata = MetaData()
submissions = Table(
    "submissions",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("manifest_sha256", String(64), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("submitter", String(256)),
    Column("dataset", String(128)),
    Column("profile", String(64)),
    Column("access", String(16)),
    Column("received_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True)),
    Column("report_path", String(1024)),
    Column("bundle_id", String(128)),
    Column("stats", JSON),
)
state_events = Table(
    "submission_events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("submission_id", String(128), index=True, nullable=False),
    Column("manifest_sha256", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("detail", String(2048)),
)
# the dashboard's list and trend queries filter on these and order by received_at
Index("ix_submissions_received_at", submissions.c.received_at)
Index("ix_submissions_dataset_received_at", submissions.c.dataset, submissions.c.received_at)
Index("ix_submissions_submitter_received_at", submissions.c.submitter, submissions.c.received_at)
Index("ix_submissions_status", submissions.c.status)


def now() -> datetime:
    return datetime.now(UTC)


def make_engine(url: str) -> Engine:
    engine = create_engine(url, future=True)
    if url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _pragmas(conn: Any, _: Any) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

    return engine


class StateStore:
    def __init__(self, url: str) -> None:
        from harmonize.db import upgrade

        self.engine = make_engine(url)
        upgrade(self.engine)  # RegistryError when the database is unreachable

    def get(self, submission_id: str, manifest_sha256: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    select(submissions).where(
                        submissions.c.id == submission_id,
                        submissions.c.manifest_sha256 == manifest_sha256,
                    )
                )
                .mappings()
                .first()
            )
        return dict(row) if row else None

    def versions(self, submission_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = (
                conn.execute(select(submissions).where(submissions.c.id == submission_id))
                .mappings()
                .all()
            )
        return [dict(r) for r in rows]

    def set_status(
        self,
        submission_id: str,
        manifest_sha256: str,
        status: Status,
        *,
        detail: str | None = None,
        **fields: Any,
    ) -> None:
        at = now()
        try:
            with self.engine.begin() as conn:
                exists = conn.execute(
                    select(submissions.c.id).where(
                        submissions.c.id == submission_id,
                        submissions.c.manifest_sha256 == manifest_sha256,
                    )
                ).first()
                if exists:
                    conn.execute(
                        update(submissions)
                        .where(
                            submissions.c.id == submission_id,
                            submissions.c.manifest_sha256 == manifest_sha256,
                        )
                        .values(status=status, updated_at=at, **fields)
                    )
                else:
                    conn.execute(
                        insert(submissions).values(
                            id=submission_id,
                            manifest_sha256=manifest_sha256,
                            status=status,
                            received_at=at,
                            updated_at=at,
                            **fields,
                        )
                    )
                conn.execute(
                    insert(state_events).values(
                        submission_id=submission_id,
                        manifest_sha256=manifest_sha256,
                        status=status,
                        at=at,
                        detail=detail,
                    )
                )
        except OperationalError as exc:
            raise RegistryError(f"state store unavailable: {exc}") from exc

    def history(self, submission_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    select(state_events)
                    .where(state_events.c.submission_id == submission_id)
                    .order_by(state_events.c.seq)
                )
                .mappings()
                .all()
            )
        return [dict(r) for r in rows]

    def list(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = (
                conn.execute(select(submissions).order_by(submissions.c.received_at))
                .mappings()
                .all()
            )
        return [dict(r) for r in rows]
