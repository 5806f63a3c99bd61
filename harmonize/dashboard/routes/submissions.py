"""The submission list, one submission's page (its findings, its published versions and
what changed between them), its report files, and re-running it."""

from __future__ import annotations

import mimetypes
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

from harmonize.dashboard.context import PREFIX, Dashboard
from harmonize.dashboard.deps import CallerDep, CuratorDep, DashboardDep, FormDep, render
from harmonize.dashboard.errors import NotFound, PageError
from harmonize.dashboard.readmodel import STATUSES, Filters, Page
from harmonize.dashboard.report_view import data_docs, finding_groups, load_report, may_see_values
from harmonize.dashboard.versions import published_versions
from harmonize.drs.links import API_PREFIX
from harmonize.warehouse import TABLES, Warehouse

router = APIRouter()


def list_filters(
    status: str | None = None,
    submitter: str | None = None,
    dataset: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> Filters:
    """The list's filters, from the query string (a dependency of the HTML and JSON lists)."""

    def day(value: str | None) -> date | None:
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise PageError(f"not a date (YYYY-MM-DD): {value!r}") from exc

    if status and status not in STATUSES:
        raise PageError(f"unknown status {status!r}")
    return Filters(status or None, submitter or None, dataset or None, day(since), day(until))


FiltersDep = Annotated[Filters, Depends(list_filters)]
# at most SQLite's and PostgreSQL's largest integer: past it the query raised OverflowError
OffsetDep = Annotated[int, Query(ge=0, le=2**63 - 1)]


def _page(dashboard: Dashboard, who: CallerDep, filters: Filters, offset: int) -> Page:
    dashboard.refresh.all()
    return dashboard.read.page(
        who.principal, filters, offset=offset, size=dashboard.settings.page_size
    )


@router.get("/", include_in_schema=False)
def home() -> Response:
    return RedirectResponse(f"{PREFIX}/submissions", status_code=303)


@router.get("/submissions", response_class=HTMLResponse)
def submission_list(
    request: Request,
    dashboard: DashboardDep,
    who: CallerDep,
    filters: FiltersDep,
    offset: OffsetDep = 0,
) -> Response:
    page = _page(dashboard, who, filters, offset)
    query = {k: v for k, v in request.query_params.items() if k != "offset" and v}
    return render(
        "submissions.html.j2",
        who,
        page=page,
        filters=filters,
        facets=dashboard.read.facets(who.principal),
        statuses=STATUSES,
        query=query,
    )


@router.get("/api/submissions")
def submission_list_json(
    dashboard: DashboardDep, who: CallerDep, filters: FiltersDep, offset: OffsetDep = 0
) -> JSONResponse:
    """The same list as JSON, for scripts with a bearer token."""
    page = _page(dashboard, who, filters, offset)
    keys = ("id", "status", "submitter", "dataset", "individuals", "features", "errors", "warnings")
    rows = [
        {**{k: r[k] for k in keys}, "received_at": r["received_at"].isoformat()} for r in page.rows
    ]
    return JSONResponse({"total": page.total, "offset": page.offset, "submissions": rows})


def _visible(dashboard: Dashboard, who: CallerDep, submission_id: str) -> list[dict[str, Any]]:
    versions = dashboard.read.versions(who.principal, submission_id)
    if not versions:  # others' submissions do not exist for a submitter
        raise NotFound(f"no submission {submission_id!r}")
    return versions


@router.get("/submissions/{submission_id}", response_class=HTMLResponse)
def submission_page(
    request: Request,
    submission_id: str,
    dashboard: DashboardDep,
    who: CallerDep,
    version: str | None = None,
    versions_offset: OffsetDep = 0,
) -> Response:
    dashboard.refresh.one(submission_id)
    versions = _visible(dashboard, who, submission_id)
    current = next((v for v in versions if v["manifest_sha256"] == version), versions[0])
    masked = not may_see_values(who.principal, current)
    s3 = dashboard.pipeline.s3_endpoint_url
    report = load_report(current["report_path"], s3_endpoint_url=s3) or {}
    registry = dashboard.registry
    members = registry.bundle_members(current["bundle_id"]) if current["bundle_id"] else []
    published = published_versions(
        registry,
        Warehouse.of(dashboard.pipeline),
        submission_id,
        offset=versions_offset,
        cache=dashboard.diffs,
    )
    return render(
        "submission.html.j2",
        who,
        sub=current,
        versions=versions,
        history=dashboard.read.history(submission_id),
        groups=finding_groups(report, masked=masked),
        masked=masked,
        has_report=bool(report),
        docs=[] if masked else data_docs(report, dashboard.pipeline.reports_dir, submission_id),
        drs=API_PREFIX,
        members=members,
        published=published,
        tables=TABLES,
        selected=version,
        rerunnable=who.principal.curator
        and current["status"] in ("rejected", "failed")
        and _source(dashboard, submission_id) is not None,
        ran=request.query_params.get("ran"),
    )


@router.get("/reports/{submission_id}/{path:path}")
def report_file(submission_id: str, path: str, dashboard: DashboardDep, who: CallerDep) -> Response:
    """The report HTML and Great Expectations Data Docs written for the submission: read
    from the object store when the report is there (an ``s3://`` location), else from the
    workspace's ``reports/`` folder."""
    versions = _visible(dashboard, who, submission_id)
    if not may_see_values(who.principal, versions[0]):
        raise NotFound("the raw report of a controlled submission is for its dataset's members")
    media = mimetypes.guess_type(path)[0] or "application/octet-stream"
    uri = next((v["report_path"] for v in versions if v["report_path"]), None)
    response: Response
    if uri is not None and uri.startswith("s3://"):
        response = Response(_stored(uri, path, dashboard), media_type=media)
    else:
        base = (dashboard.pipeline.reports_dir / submission_id).resolve()
        target = (base / path).resolve()
        if not target.is_relative_to(base) or not target.is_file():
            raise NotFound(f"no report file {path!r}")
        response = FileResponse(target, media_type=media)
    # Data Docs are generated pages: shown sandboxed, no scripts, nothing fetched elsewhere
    response.headers["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; style-src 'unsafe-inline' 'self'; img-src 'self' data:"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _stored(report_uri: str, path: str, dashboard: Dashboard) -> bytes:
    """A file of the report folder holding ``report_uri`` (on S3)."""
    from harmonize.quality.report_store import read_report_file, report_location

    location = report_location(report_uri, path)
    if location is None:
        raise NotFound(f"no report file {path!r}")
    try:
        return read_report_file(location, s3_endpoint_url=dashboard.pipeline.s3_endpoint_url)
    except FileNotFoundError as exc:
        raise NotFound(f"no report file {path!r}") from exc


def _source(dashboard: Dashboard, submission_id: str) -> Path | None:
    landing = dashboard.settings.landing_dir
    if landing is None or "/" in submission_id or submission_id.startswith("."):
        return None
    source = landing / submission_id
    return source if (source / "manifest.yaml").is_file() else None


@router.post("/submissions/{submission_id}/rerun")
def rerun(submission_id: str, dashboard: DashboardDep, who: CuratorDep, _form: FormDep) -> Response:
    """Run the submission again from the landing area (after a review, say)."""
    from harmonize.pipeline import ingest

    _visible(dashboard, who, submission_id)
    source = _source(dashboard, submission_id)
    if source is None:
        raise NotFound(f"submission {submission_id!r} is not in the landing area")
    result = ingest(source, dashboard.pipeline)
    dashboard.audit.record(
        who.principal.name, who.principal.role, "submission.rerun", submission_id, result.status
    )
    return RedirectResponse(
        f"{PREFIX}/submissions/{submission_id}?ran={result.status}", status_code=303
    )
