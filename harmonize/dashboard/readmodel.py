"""What the submission pages show, read with SQLAlchemy Core from the state store's database.

Every query is scoped to the principal: a submitter only ever sees rows whose
``submitter`` is their own name. Counts come from :mod:`harmonize.dashboard.summaries`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Select, Table, and_, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

from harmonize.dashboard.auth import Principal
from harmonize.dashboard.summaries import summaries
from harmonize.state.store import state_events, submissions

STATUSES = ("received", "processing", "published", "rejected", "failed")


@dataclass(frozen=True)
class Filters:
    """The list's and trends' filters; empty means any."""

    status: str | None = None
    submitter: str | None = None
    dataset: str | None = None
    since: date | None = None
    until: date | None = None

    def where(self, principal: Principal, table: Table = submissions) -> list[ColumnElement[bool]]:
        """WHERE clauses on ``table`` (the state store's, or a projection with its columns)."""
        s = table.c
        clauses: list[ColumnElement[bool]] = []
        if not principal.curator:
            clauses.append(s.submitter == principal.name)
        if self.status:
            clauses.append(s.status == self.status)
        if self.submitter:
            clauses.append(s.submitter == self.submitter)
        if self.dataset:
            clauses.append(s.dataset == self.dataset)
        if self.since:
            clauses.append(s.received_at >= datetime.combine(self.since, time.min, UTC))
        if self.until:
            clauses.append(s.received_at < datetime.combine(self.until, time.max, UTC))
        return clauses


@dataclass
class Page:
    rows: list[dict[str, Any]]
    total: int
    offset: int
    size: int

    @property
    def next_offset(self) -> int | None:
        return self.offset + self.size if self.offset + self.size < self.total else None

    @property
    def prev_offset(self) -> int | None:
        return max(self.offset - self.size, 0) if self.offset > 0 else None


def _joined() -> Select[Any]:
    s, m = submissions, summaries
    return select(
        s.c.id,
        s.c.manifest_sha256,
        s.c.status,
        s.c.submitter,
        s.c.dataset,
        s.c.profile,
        s.c.access,
        s.c.received_at,
        s.c.updated_at,
        s.c.report_path,
        s.c.bundle_id,
        s.c.stats,
        func.coalesce(m.c.individuals, 0).label("individuals"),
        func.coalesce(m.c.features, 0).label("features"),
        func.coalesce(m.c.errors, 0).label("errors"),
        func.coalesce(m.c.warnings, 0).label("warnings"),
        func.coalesce(m.c.infos, 0).label("infos"),
    ).select_from(
        s.outerjoin(m, and_(m.c.id == s.c.id, m.c.manifest_sha256 == s.c.manifest_sha256))
    )


class ReadModel:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def page(self, principal: Principal, filters: Filters, *, offset: int, size: int) -> Page:
        """One page of submission versions, newest first, with their counts."""
        where = filters.where(principal)
        query = (
            _joined()
            .where(*where)
            .order_by(submissions.c.received_at.desc(), submissions.c.id)
            .limit(size)
            .offset(max(offset, 0))
        )
        count = select(func.count()).select_from(submissions).where(*where)
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings().all()]
            total = int(conn.execute(count).scalar_one())
        return Page(rows, total, max(offset, 0), size)

    def facets(self, principal: Principal) -> dict[str, list[str]]:
        """The submitters and datasets the filters offer (the principal's own only)."""
        scope = Filters().where(principal)
        out: dict[str, list[str]] = {}
        with self.engine.connect() as conn:
            for name in ("submitter", "dataset"):
                col = submissions.c[name]
                query = select(col).distinct().where(*scope, col.is_not(None)).order_by(col)
                out[name] = [str(v) for v in conn.execute(query).scalars().all()]
        return out

    def versions(self, principal: Principal, submission_id: str) -> list[dict[str, Any]]:
        """Every version of one submission, newest first; empty when not visible."""
        where = [submissions.c.id == submission_id, *Filters().where(principal)]
        query = _joined().where(*where).order_by(submissions.c.updated_at.desc())
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings().all()]

    def history(self, submission_id: str) -> list[dict[str, Any]]:
        query = (
            select(state_events)
            .where(state_events.c.submission_id == submission_id)
            .order_by(state_events.c.seq)
        )
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings().all()]

    def visible_ids(self, principal: Principal, ids: set[str]) -> set[str]:
        """The submission ids among ``ids`` the principal may see."""
        if not ids:
            return set()
        query = (
            select(submissions.c.id)
            .distinct()
            .where(submissions.c.id.in_(sorted(ids)), *Filters().where(principal))
        )
        with self.engine.connect() as conn:
            return {str(v) for v in conn.execute(query).scalars().all()}
