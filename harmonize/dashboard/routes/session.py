"""Sign in with a configured token or a JWT; sign out. No passwords are stored anywhere."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from harmonize.dashboard.auth import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Session,
    authenticate,
    encode_session,
    same_token,
)
from harmonize.dashboard.context import PREFIX
from harmonize.dashboard.deps import CallerDep, DashboardDep, FormDep, render

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only redirect inside the dashboard (no open redirect)."""
    if target and target.startswith(PREFIX + "/") and not target.startswith("//"):
        return target
    return f"{PREFIX}/submissions"


@router.get("/login", response_class=HTMLResponse)
def login_page(dashboard: DashboardDep, next: str | None = None) -> Response:
    nonce = secrets.token_urlsafe(24)
    response = render("login.html.j2", None, nonce=nonce, next=_safe_next(next), failed=False)
    _login_cookie(response, nonce, dashboard.settings.secure_cookies)
    return response


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    dashboard: DashboardDep,
    token: Annotated[str, Form()],
    nonce: Annotated[str, Form()],
    next: Annotated[str, Form()] = "",
) -> Response:
    principal = None
    if same_token(nonce, request.cookies.get(LOGIN_COOKIE)):
        principal = authenticate(token, dashboard.settings)
    if principal is None:
        dashboard.audit.record("(anonymous)", "-", "sign-in.failed", "dashboard")
        fresh = secrets.token_urlsafe(24)
        response = render(
            "login.html.j2", None, status=401, nonce=fresh, next=_safe_next(next), failed=True
        )
        _login_cookie(response, fresh, dashboard.settings.secure_cookies)
        return response
    session = Session.start(principal, hours=dashboard.settings.session_hours)
    dashboard.audit.record(principal.name, principal.role, "sign-in", "dashboard")
    redirect = RedirectResponse(_safe_next(next), status_code=303)
    redirect.set_cookie(
        SESSION_COOKIE,
        encode_session(session, dashboard.settings.secret_key),
        max_age=int(dashboard.settings.session_hours * 3600),
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=dashboard.settings.secure_cookies,
    )
    redirect.delete_cookie(LOGIN_COOKIE, path=PREFIX)
    return redirect


@router.post("/logout")
def logout(dashboard: DashboardDep, who: CallerDep, _form: FormDep) -> Response:
    dashboard.audit.record(who.principal.name, who.principal.role, "sign-out", "dashboard")
    redirect = RedirectResponse(f"{PREFIX}/login", status_code=303)
    redirect.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return redirect


def _login_cookie(response: Response, nonce: str, secure: bool) -> None:
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=1800,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=secure,
    )
