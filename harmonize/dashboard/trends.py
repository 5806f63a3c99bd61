"""Aggregates for the trend page, computed in SQL: per month and per dataset or submitter.

Pass rate (published among published + rejected), finding rates per category (findings
per submission), the share of unmapped or low-confidence terms, and ingest volume
(submissions and individuals).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import case, func, select
from sqlalchemy.engine import Engine

from harmonize.dashboard.auth import Principal
from harmonize.dashboard.readmodel import Filters
from harmonize.dashboard.summaries import categories, summaries

GroupBy = Literal["dataset", "submitter"]
MAX_GROUPS = 8  # the largest groups get a series each; the rest are "other"
MAX_CATEGORIES = 8


@dataclass
class Trends:
    months: list[str]
    groups: list[str]
    # per group, per month (None: nothing that month)
    pass_rate: dict[str, list[float | None]] = field(default_factory=dict)
    submissions: dict[str, list[float | None]] = field(default_factory=dict)
    individuals: dict[str, list[float | None]] = field(default_factory=dict)
    weak_share: dict[str, list[float | None]] = field(default_factory=dict)
    # per finding category, per month: findings per submission (all groups)
    category_rates: dict[str, list[float | None]] = field(default_factory=dict)


def trends(engine: Engine, principal: Principal, filters: Filters, by: GroupBy) -> Trends:
    """Monthly aggregates from the summary projection (one narrow table per query, no join)."""
    m, c = summaries, categories
    group = func.coalesce(m.c[by], "(none)").label("grp")
    where = [*filters.where(principal, m), m.c.month.is_not(None)]
    per_group = (
        select(
            m.c.month,
            group,
            func.count().label("n"),
            func.sum(case((m.c.status == "published", 1), else_=0)).label("published"),
            func.sum(case((m.c.status == "rejected", 1), else_=0)).label("rejected"),
            func.sum(m.c.individuals).label("individuals"),
            func.sum(m.c.terms).label("terms"),
            func.sum(m.c.weak_terms).label("weak"),
        )
        .where(*where)
        .group_by(m.c.month, group)
    )
    per_category = (
        select(c.c.month, c.c.category, func.sum(c.c.count).label("n"))
        .where(*filters.where(principal, c), c.c.month.is_not(None))
        .group_by(c.c.month, c.c.category)
    )
    with engine.connect() as conn:
        rows = conn.execute(per_group).mappings().all()
        cat_rows = conn.execute(per_category).mappings().all()
    return _shape(rows, cat_rows)


def _shape(rows: Any, cat_rows: Any) -> Trends:
    months = sorted({str(r["month"]) for r in rows})
    index = {mo: i for i, mo in enumerate(months)}
    size: dict[str, int] = {}
    for r in rows:
        size[r["grp"]] = size.get(r["grp"], 0) + int(r["n"])
    ranked = sorted(size, key=lambda g: (-size[g], g))
    kept = set(ranked[:MAX_GROUPS])
    groups = ranked[:MAX_GROUPS] + (["other"] if len(ranked) > MAX_GROUPS else [])
    acc: dict[str, list[list[int]]] = {g: [[0] * 6 for _ in months] for g in groups}
    totals = [0] * len(months)
    for r in rows:
        g = r["grp"] if r["grp"] in kept else "other"
        cell = acc[g][index[str(r["month"])]]
        values = (r["n"], r["published"], r["rejected"], r["individuals"], r["terms"], r["weak"])
        for k, v in enumerate(values):
            cell[k] += int(v or 0)
        totals[index[str(r["month"])]] += int(r["n"])
    out = Trends(months, groups)
    for g, cells in acc.items():
        out.pass_rate[g] = [(c[1] / (c[1] + c[2])) if c[1] + c[2] else None for c in cells]
        out.submissions[g] = [float(c[0]) if c[0] else None for c in cells]
        out.individuals[g] = [float(c[3]) if c[0] else None for c in cells]
        out.weak_share[g] = [(c[5] / c[4]) if c[4] else None for c in cells]
    by_cat: dict[str, list[float]] = {}
    for r in cat_rows:
        series = by_cat.setdefault(str(r["category"]), [0.0] * len(months))
        if str(r["month"]) in index:
            series[index[str(r["month"])]] += float(r["n"] or 0)
    top = sorted(by_cat, key=lambda k: -sum(by_cat[k]))[:MAX_CATEGORIES]
    for cat in sorted(top):
        out.category_rates[cat] = [
            (v / totals[i]) if totals[i] else None for i, v in enumerate(by_cat[cat])
        ]
    return out
