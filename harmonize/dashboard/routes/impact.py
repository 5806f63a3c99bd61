"""Ontology impact: the latest release diff, and which publications use changed terms."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from harmonize.dashboard.deps import CallerDep, CuratorDep, DashboardDep, render

router = APIRouter()

DIFF_REPORT = ("ontology-diff", "latest.json")  # under the reports directory


@router.get("/impact", response_class=HTMLResponse)
def impact_page(dashboard: DashboardDep, who: CallerDep) -> Response:
    path = dashboard.pipeline.reports_dir.joinpath(*DIFF_REPORT)
    document: dict[str, Any] | None = None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        document = None
    impacts: list[dict[str, Any]] = list((document or {}).get("impacts") or [])
    if not who.principal.curator:
        ids = {str(i.get("submission_id")) for i in impacts}
        visible = dashboard.read.visible_ids(who.principal, ids)
        impacts = [i for i in impacts if str(i.get("submission_id")) in visible]
    by_term: dict[str, dict[str, Any]] = {}
    for i in impacts:
        entry = by_term.setdefault(
            i["term_id"], {**i, "submissions": set(), "phenopackets": set(), "rows": 0}
        )
        entry["submissions"].add(i["submission_id"])
        entry["phenopackets"].add((i["submission_id"], i["phenopacket_id"]))
        entry["rows"] += 1
    return render(
        "impact.html.j2",
        who,
        document=document,
        impacts=impacts[:500],
        more=max(len(impacts) - 500, 0),
        terms=sorted(by_term.values(), key=lambda e: -e["rows"]),
    )


@router.get("/audit", response_class=HTMLResponse)
def audit_page(dashboard: DashboardDep, who: CuratorDep) -> Response:
    return render("audit.html.j2", who, entries=dashboard.audit.entries())
