"""The curator dashboard: server-rendered pages served by the same FastAPI app as DRS.

``mount(app, settings)`` adds, under ``/dashboard``: the submission list and pages (with
their published versions and what changed), trend charts, the review queue, the
ontology-impact page, withdrawals and the audit log, plus the sign-in page and the static
stylesheet. Pages are Jinja2 templates with autoescaping; charts are
server-side SVG; there is no JavaScript and nothing is loaded from another host.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harmonize.dashboard.config import AccessToken, DashboardSettings, JwtSettings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from harmonize.web import WebSettings

__all__ = ["AccessToken", "DashboardSettings", "JwtSettings", "mount"]


def mount(app: FastAPI, settings: WebSettings) -> None:
    """Serve the dashboard on ``app`` when ``settings.dashboard`` is configured."""
    from pathlib import Path

    from fastapi import Request
    from fastapi.responses import RedirectResponse, Response
    from fastapi.staticfiles import StaticFiles

    from harmonize.dashboard import summaries
    from harmonize.dashboard.audit import AuditLog
    from harmonize.dashboard.context import PREFIX, Dashboard
    from harmonize.dashboard.deps import error_page, optional_caller
    from harmonize.dashboard.errors import PAGE_RESPONSES, PageError, SignInRequired
    from harmonize.dashboard.readmodel import ReadModel
    from harmonize.dashboard.routes import (
        impact,
        review,
        session,
        submissions,
        trends,
        withdrawals,
    )
    from harmonize.drs.registry import Registry
    from harmonize.settings import Settings
    from harmonize.state.review import ReviewStore
    from harmonize.state.store import StateStore

    config = settings.dashboard
    if config is None:
        return
    pipeline: Settings = config.pipeline or app.state.pipeline  # see harmonize.web
    state = StateStore(pipeline.registry)
    engine = state.engine
    registry: Registry = app.state.registry
    if pipeline.registry != settings.drs.registry_url:
        registry = Registry(pipeline.registry)
        registry.create_all()
    app.state.dashboard = Dashboard(
        settings=config,
        pipeline=pipeline,
        engine=engine,
        read=ReadModel(engine),
        audit=AuditLog(engine),
        review=ReviewStore(pipeline.registry),
        refresh=summaries.Refresher(engine, s3_endpoint_url=pipeline.s3_endpoint_url),
        registry=registry,
    )

    async def page_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageError)
        if isinstance(exc, SignInRequired) and "authorization" not in request.headers:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"{PREFIX}/login?next={_quote(target)}", status_code=303)
        try:
            who = optional_caller(request, app.state.dashboard)
        except PageError:
            who = None
        return error_page(exc, who)

    app.add_exception_handler(PageError, page_error)
    for module in (session, submissions, trends, review, impact, withdrawals):
        app.include_router(
            module.router,
            prefix=PREFIX,
            tags=["Dashboard"],
            include_in_schema=False,
            responses=PAGE_RESPONSES,
        )
    static = Path(__file__).resolve().parent / "static"
    app.mount(f"{PREFIX}/static", StaticFiles(directory=static), name="dashboard-static")


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="/")
