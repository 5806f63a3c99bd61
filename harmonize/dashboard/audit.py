"""The audit log: who did what to which target, and when; every write action lands here.

>>> from sqlalchemy import create_engine
>>> engine = create_engine("sqlite://")
>>> log = AuditLog(engine)
>>> log.record("dr.c", "curator", "review.accept", "review/3", "HP:0000256")
>>> [(e["actor"], e["action"], e["target"]) for e in log.entries()]
[('dr.c', 'review.accept', 'review/3')]
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, insert, select
from sqlalchemy.engine import Engine

from harmonize.db import upgrade

metadata = MetaData()
audit = Table(
    "dashboard_audit",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("actor", String(256), nullable=False),
    Column("role", String(16), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(512), nullable=False),
    Column("detail", String(2048)),
)


class AuditLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        upgrade(engine)  # the table comes with the migrations (harmonize/db)

    def record(
        self, actor: str, role: str, action: str, target: str, detail: str | None = None
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(audit).values(
                    at=datetime.now(UTC),
                    actor=actor,
                    role=role,
                    action=action,
                    target=target,
                    detail=None if detail is None else detail[:2048],
                )
            )

    def entries(self, limit: int = 200) -> list[dict[str, Any]]:
        query = select(audit).order_by(audit.c.seq.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings().all()]
