"""A dataset (or submitter) over time: pass rate, finding rates, weak terms, volume."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from harmonize.dashboard.charts import bar_chart, line_chart
from harmonize.dashboard.deps import CallerDep, DashboardDep, render
from harmonize.dashboard.errors import PageError
from harmonize.dashboard.routes.submissions import list_filters
from harmonize.dashboard.trends import GroupBy, trends

router = APIRouter()


@router.get("/trends", response_class=HTMLResponse)
def trend_page(
    dashboard: DashboardDep,
    who: CallerDep,
    by: str = "dataset",
    submitter: str | None = None,
    dataset: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> Response:
    if by not in ("dataset", "submitter"):
        raise PageError(f"group by dataset or submitter, not {by!r}")
    group: GroupBy = "dataset" if by == "dataset" else "submitter"
    dashboard.refresh.all()
    filters = list_filters(None, submitter, dataset, since, until)
    t = trends(dashboard.engine, who.principal, filters, group)
    charts = [
        line_chart(f"Pass rate per {by}", t.months, t.pass_rate, percent=True, slug="pass-rate"),
        line_chart(
            "Findings per submission, by category",
            t.months,
            t.category_rates,
            slug="finding-rates",
        ),
        line_chart(
            f"Share of unmapped or low-confidence terms per {by}",
            t.months,
            t.weak_share,
            percent=True,
            slug="weak-terms",
        ),
        bar_chart(f"Submissions per month, per {by}", t.months, t.submissions, slug="volume"),
        bar_chart(
            f"Individuals ingested per month, per {by}", t.months, t.individuals, slug="individuals"
        ),
    ]
    return render(
        "trends.html.j2",
        who,
        charts=charts,
        trends=t,
        by=by,
        filters=filters,
        facets=dashboard.read.facets(who.principal),
    )
