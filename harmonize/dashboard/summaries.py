"""Per-submission summaries the list and trend pages aggregate in SQL.

The state store knows a submission's status and table counts; its findings live in the
report JSON. :func:`sync` projects each report into two small tables (one row per
submission version, one per finding category and level) the first time the dashboard
sees it, and again whenever the submission's ``updated_at`` moves. The pipeline stays
unaware of the dashboard; the projection can be rebuilt at any time.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    delete,
    insert,
    or_,
    select,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from harmonize.dashboard.report_view import load_report
from harmonize.state.store import submissions

metadata = MetaData()
summaries = Table(
    "dashboard_summaries",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("manifest_sha256", String(64), primary_key=True),
    Column("source_updated_at", DateTime(timezone=True)),
    # copies of the submission's row, so trend aggregates read one narrow table, no join
    Column("received_at", DateTime(timezone=True)),
    Column("month", String(7)),  # YYYY-MM of received_at, UTC
    Column("status", String(16)),
    Column("dataset", String(128)),
    Column("submitter", String(256)),
    Column("individuals", Integer, nullable=False, default=0),
    Column("features", Integer, nullable=False, default=0),
    Column("errors", Integer, nullable=False, default=0),
    Column("warnings", Integer, nullable=False, default=0),
    Column("infos", Integer, nullable=False, default=0),
    Column("terms", Integer, nullable=False, default=0),
    Column("weak_terms", Integer, nullable=False, default=0),
)
categories = Table(
    "dashboard_finding_counts",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("manifest_sha256", String(64), primary_key=True),
    Column("category", String(128), primary_key=True),
    Column("level", String(16), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("received_at", DateTime(timezone=True)),
    Column("month", String(7)),
    Column("dataset", String(128)),
    Column("submitter", String(256)),
)
# covering indexes: the monthly trend aggregates read only these, in group order
_MEASURES = (summaries.c.status, summaries.c.individuals, summaries.c.terms, summaries.c.weak_terms)
Index("ix_dashboard_summaries_month_dataset", summaries.c.month, summaries.c.dataset, *_MEASURES)
Index(
    "ix_dashboard_summaries_month_submitter", summaries.c.month, summaries.c.submitter, *_MEASURES
)
Index(
    "ix_dashboard_finding_counts_month",
    categories.c.month,
    categories.c.category,
    categories.c.count,
)

LOW_CONFIDENCE = 0.9
"""Mappings scoring below this (and not curated) count as low-confidence terms."""


def summarize(stats: dict[str, Any] | None, report: dict[str, Any] | None) -> dict[str, Any]:
    """Counts for one submission from its table stats and report JSON.

    >>> s = summarize({"individuals": 2, "phenotypic_features": 5},
    ...     {"findings": [{"level": "error", "category": "unmapped-term"}],
    ...      "mappings": [{"method": "label", "score": 1.0}, {"method": "fuzzy", "score": 0.8}]})
    >>> s["individuals"], s["features"], s["errors"], s["terms"], s["weak_terms"]
    (2, 5, 1, 3, 2)
    >>> s["categories"]
    {('unmapped-term', 'error'): 1}
    """
    stats = stats or {}
    findings = (report or {}).get("findings") or []
    mappings = (report or {}).get("mappings") or []
    levels = Counter(f.get("level") for f in findings)
    cats = Counter((str(f.get("category")), str(f.get("level"))) for f in findings)
    unmapped = sum(1 for f in findings if f.get("category") == "unmapped-term")
    weak = sum(
        1
        for m in mappings
        if m.get("method") != "curated" and float(m.get("score") or 0) < LOW_CONFIDENCE
    )
    return {
        "individuals": int(stats.get("individuals", 0) or 0),
        "features": int(stats.get("phenotypic_features", 0) or 0),
        "errors": levels.get("error", 0),
        "warnings": levels.get("warning", 0),
        "infos": levels.get("info", 0),
        "terms": len(mappings) + unmapped,
        "weak_terms": weak + unmapped,
        "categories": dict(cats),
    }


def month(at: datetime | None) -> str | None:
    """``YYYY-MM`` in UTC (naive datetimes, as SQLite returns them, are UTC).

    >>> from datetime import timedelta, timezone
    >>> month(datetime(2026, 2, 1, 1, 0, tzinfo=timezone(timedelta(hours=2))))
    '2026-01'
    """
    if at is None:
        return None
    if at.tzinfo is not None:
        at = at.astimezone(UTC)
    return at.strftime("%Y-%m")


def record(
    conn: Connection,
    row: dict[str, Any],
    summary: dict[str, Any],
) -> None:
    """Replace the stored summary of one submission version (``row``: its state-store row)."""
    submission_id, manifest_sha256 = row["id"], row["manifest_sha256"]
    copied = {
        "received_at": row["received_at"],
        "month": month(row["received_at"]),
        "dataset": row["dataset"],
        "submitter": row["submitter"],
    }
    key = and_(summaries.c.id == submission_id, summaries.c.manifest_sha256 == manifest_sha256)
    ckey = and_(categories.c.id == submission_id, categories.c.manifest_sha256 == manifest_sha256)
    conn.execute(delete(summaries).where(key))
    conn.execute(delete(categories).where(ckey))
    values = {k: v for k, v in summary.items() if k != "categories"}
    conn.execute(
        insert(summaries).values(
            id=submission_id,
            manifest_sha256=manifest_sha256,
            source_updated_at=row["updated_at"],
            status=row["status"],
            **copied,
            **values,
        )
    )
    rows = [
        {
            "id": submission_id,
            "manifest_sha256": manifest_sha256,
            "category": category,
            "level": level,
            "count": n,
            **copied,
        }
        for (category, level), n in summary.get("categories", {}).items()
    ]
    if rows:
        conn.execute(insert(categories), rows)


def sync(
    engine: Engine,
    *,
    submission_id: str | None = None,
    limit: int = 5000,
    s3_endpoint_url: str | None = None,
) -> int:
    """Summarize submissions that are new or changed since last seen; how many were.

    With ``submission_id``, only that submission's versions are looked at. Reports on S3
    are read through ``s3_endpoint_url``.
    """
    s, m = submissions, summaries
    stale = (
        select(s)
        .select_from(
            s.outerjoin(m, and_(m.c.id == s.c.id, m.c.manifest_sha256 == s.c.manifest_sha256))
        )
        .where(or_(m.c.id.is_(None), m.c.source_updated_at != s.c.updated_at))
        .limit(limit)
    )
    if submission_id is not None:
        stale = stale.where(s.c.id == submission_id)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(stale).mappings().all()]
    if not rows:
        return 0
    try:
        with engine.begin() as conn:
            for row in rows:
                report = load_report(row["report_path"], s3_endpoint_url=s3_endpoint_url)
                record(conn, row, summarize(row["stats"], report))
    except IntegrityError:  # another request projected the same rows first
        return 0
    return len(rows)


class Refresher:
    """Runs :func:`sync` for the list and trend pages at most every ``interval`` seconds.

    A submission's own page syncs that submission every time (one indexed lookup), so a
    re-run shows at once; lists may lag by up to ``interval``.
    """

    def __init__(
        self, engine: Engine, interval: float = 2.0, *, s3_endpoint_url: str | None = None
    ) -> None:
        self.engine = engine
        self.s3_endpoint_url = s3_endpoint_url
        self.interval = interval
        self._last = float("-inf")
        self._lock = threading.Lock()

    def all(self) -> None:
        now = time.monotonic()
        if now - self._last < self.interval or not self._lock.acquire(blocking=False):
            return
        try:
            while (
                sync(self.engine, s3_endpoint_url=self.s3_endpoint_url) > 0
            ):  # in chunks, until nothing is stale
                pass
            self._last = time.monotonic()
        finally:
            self._lock.release()

    def one(self, submission_id: str) -> None:
        sync(self.engine, submission_id=submission_id, s3_endpoint_url=self.s3_endpoint_url)
