"""The review queue: low-confidence mappings, their candidates, and the curator's decision."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from harmonize.dashboard.context import PREFIX, Dashboard
from harmonize.dashboard.deps import CuratorDep, DashboardDep, FormDep, render
from harmonize.dashboard.errors import NotFound, PageError
from harmonize.state.review import review_items
from harmonize.state.store import submissions

router = APIRouter()


def _waiting(dashboard: Dashboard) -> list[dict[str, Any]]:
    """Rejected submissions whose review items are all decided: ready for a re-run."""
    with dashboard.engine.connect() as conn:
        rows = conn.execute(
            select(review_items.c.submission_id, review_items.c.status).where(
                review_items.c.submission_id.is_not(None)
            )
        ).all()
        pending: dict[str, bool] = {}
        for sid, status in rows:
            pending[sid] = pending.get(sid, False) or status == "open"
        ready = sorted(sid for sid, open_ in pending.items() if not open_)
        if not ready:
            return []
        found = conn.execute(
            select(submissions.c.id, submissions.c.dataset, submissions.c.status)
            .where(submissions.c.id.in_(ready))
            .order_by(submissions.c.updated_at.desc())
        ).mappings()
        latest: dict[str, dict[str, Any]] = {}
        for r in found:
            latest.setdefault(r["id"], dict(r))
    landing = dashboard.settings.landing_dir
    return [
        {**r, "rerunnable": landing is not None and (landing / r["id"] / "manifest.yaml").is_file()}
        for r in latest.values()
        if r["status"] == "rejected"
    ]


@router.get("/review", response_class=HTMLResponse)
def review_page(dashboard: DashboardDep, who: CuratorDep, show: str = "open") -> Response:
    items = dashboard.review.items(status="open" if show == "open" else None)
    return render("review.html.j2", who, items=items, show=show, waiting=_waiting(dashboard))


@router.post("/review/{item_id}/accept")
def accept(item_id: int, dashboard: DashboardDep, who: CuratorDep, form: FormDep) -> Response:
    """Accept the chosen candidate, or another term the curator typed."""
    from harmonize.ontology import Ontologies

    item = dashboard.review.item(item_id)
    if item is None:
        raise NotFound(f"no review item {item_id}")
    term = (form.get("other") or "").strip() or (form.get("term") or "").strip()
    if not term:
        raise PageError("pick a candidate or type a term id")
    s = dashboard.pipeline
    index = Ontologies.load(s.ontologies_dir, s.cache_dir).get(item["ontology"])
    code = index.code(term)
    if code is None:
        raise PageError(f"{term!r} is not a {item['ontology']} term")
    term_id, label = index.term_id(code), index.label(code)
    dashboard.review.decide(item_id, term_id=term_id, label=label, by=who.principal.name)
    dashboard.audit.record(
        who.principal.name,
        who.principal.role,
        "review.accept",
        f"review/{item_id}",
        f"{item['raw_text']!r} -> {term_id} {label!r} ({item['dataset']})",
    )
    return RedirectResponse(f"{PREFIX}/review", status_code=303)


@router.post("/review/{item_id}/unmappable")
def unmappable(item_id: int, dashboard: DashboardDep, who: CuratorDep, _form: FormDep) -> Response:
    item = dashboard.review.item(item_id)
    if item is None:
        raise NotFound(f"no review item {item_id}")
    dashboard.review.decide(item_id, term_id=None, label=None, by=who.principal.name)
    dashboard.audit.record(
        who.principal.name,
        who.principal.role,
        "review.unmappable",
        f"review/{item_id}",
        f"{item['raw_text']!r} ({item['dataset']})",
    )
    return RedirectResponse(f"{PREFIX}/review", status_code=303)
