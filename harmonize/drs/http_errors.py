"""Every error leaves the service as the specification's ``{"msg", "status_code"}`` body.

Validation failures (a malformed body, a bad query parameter) become 400, as the DRS
specification lists no 422. A registry that cannot be reached becomes 500.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from harmonize.errors import RegistryError

log = logging.getLogger(__name__)


class DrsHTTPError(Exception):
    """An answer other than 200, raised by routes and turned into an Error body."""

    def __init__(self, status_code: int, msg: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(msg)
        self.status_code = status_code
        self.msg = msg
        self.headers = headers


def error_response(
    status_code: int, msg: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The specification's Error body."""
    return JSONResponse({"msg": msg, "status_code": status_code}, status_code, headers=headers)


async def _drs_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DrsHTTPError)
    return error_response(exc.status_code, exc.msg, exc.headers)


def allowed_methods(request: Request) -> str:
    """Every method some route serves at this path (Starlette lists only the first route's)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": "\0"})
        if match is Match.PARTIAL:
            methods |= set(getattr(route, "methods", None) or ())
    return ", ".join(sorted(methods))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers) if exc.headers else None
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": allowed_methods(request)}
    return error_response(exc.status_code, str(exc.detail), headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        f"{'.'.join(str(part) for part in error.get('loc', ()))}: {error.get('msg', 'invalid')}"
        for error in exc.errors()[:5]
    ]
    return error_response(400, "invalid request: " + "; ".join(problems))


async def _registry_error(_request: Request, exc: Exception) -> JSONResponse:
    log.error("DRS registry unavailable: %s", exc)
    return error_response(500, "the DRS registry is unavailable; retry later")


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error in the DRS service", exc_info=exc)
    return error_response(500, "internal server error")


def install_error_handlers(app: FastAPI) -> None:
    """Route every failure through the Error body."""
    app.add_exception_handler(DrsHTTPError, _drs_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(RegistryError, _registry_error)
    app.add_exception_handler(Exception, _unexpected)
