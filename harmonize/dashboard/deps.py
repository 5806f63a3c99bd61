"""Shared dependencies of the dashboard routes: who is asking, CSRF, and page rendering."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from harmonize.dashboard.auth import (
    SESSION_COOKIE,
    Principal,
    Session,
    authenticate,
    decode_session,
    same_token,
)
from harmonize.dashboard.context import Dashboard, templates
from harmonize.dashboard.errors import Forbidden, PageError, SignInRequired

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


@dataclass(frozen=True)
class Caller:
    """The signed-in principal; ``csrf`` is None for bearer-token API calls."""

    principal: Principal
    csrf: str | None
    bearer: bool


def get_dashboard(request: Request) -> Dashboard:
    dashboard: Dashboard = request.app.state.dashboard
    return dashboard


DashboardDep = Annotated[Dashboard, Depends(get_dashboard)]


def optional_caller(request: Request, dashboard: DashboardDep) -> Caller | None:
    """From ``Authorization: Bearer`` (API use) or the signed session cookie."""
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        principal = authenticate(header[7:], dashboard.settings)
        if principal is None:
            raise SignInRequired("the bearer token is not valid")
        return Caller(principal, None, True)
    cookie = request.cookies.get(SESSION_COOKIE)
    session: Session | None = (
        decode_session(cookie, dashboard.settings.secret_key) if cookie else None
    )
    return Caller(session.principal, session.csrf, False) if session else None


def caller(found: Annotated[Caller | None, Depends(optional_caller)]) -> Caller:
    if found is None:
        raise SignInRequired("sign in to see this page")
    return found


CallerDep = Annotated[Caller, Depends(caller)]


def curator(who: CallerDep) -> Caller:
    if not who.principal.curator:
        raise Forbidden("only curators can open this page")
    return who


CuratorDep = Annotated[Caller, Depends(curator)]


async def checked_form(request: Request, who: CallerDep) -> dict[str, str]:
    """The POSTed form, after its CSRF token matched the session's (bearer calls need none)."""
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    if not who.bearer and not same_token(values.get("csrf"), who.csrf):
        raise Forbidden("the form's CSRF token does not match your session; reload the page")
    return values


FormDep = Annotated[dict[str, str], Depends(checked_form)]


def render(name: str, who: Caller | None, *, status: int = 200, **context: Any) -> HTMLResponse:
    page = (
        templates()
        .get_template(name)
        .render(
            principal=who.principal if who else None,
            csrf=who.csrf if who else None,
            **context,
        )
    )
    response = HTMLResponse(page, status_code=status)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


def error_page(exc: PageError, who: Caller | None) -> HTMLResponse:
    return render("error.html.j2", who, status=exc.status, status_code=exc.status, error=exc)
