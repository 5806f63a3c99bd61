"""The HTTP routes of ``/ga4gh/data-connect/v1``: thin, over :class:`.service.DataConnect`."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from harmonize import __version__
from harmonize.discovery.dataconnect.paging import Page, encode
from harmonize.discovery.dataconnect.service import DataConnect, DataConnectError

PREFIX = "/ga4gh/data-connect/v1"
router = APIRouter(prefix=PREFIX, tags=["Data Connect"])
_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="DataConnectBearer",
    description="A GA4GH Passport (JWT) whose ControlledAccessGrants visas open controlled "
    "datasets; without one, public datasets only (and no /search).",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
PageToken = Annotated[
    str | None, Query(max_length=100_000, description="From a next_page_url; omit for page 1")
]


def _service(request: Request) -> DataConnect:
    service: DataConnect = request.app.state.data_connect
    return service


def _page_url(request: Request, path: str) -> Any:
    def url(page: Page) -> str:
        base = str(request.base_url).rstrip("/")
        return f"{base}{PREFIX}{path}?page_token={encode(page)}"

    return url


@router.get("/service-info")
def service_info() -> dict[str, Any]:
    """GA4GH service-info for this Data Connect service."""
    return {
        "id": "org.ga4gh.harmonize.data-connect",
        "name": "Harmonize Data Connect",
        "type": {"group": "org.ga4gh", "artifact": "data-connect", "version": "1.0.0"},
        "description": "Tables and SQL over the published Harmonize tables, at the current "
        "publication, for the datasets your credentials open",
        "organization": {"name": "Harmonize", "url": "https://example.org/harmonize"},
        "version": __version__,
    }


@router.get("/tables")
def list_tables(request: Request, credentials: Credentials) -> dict[str, Any]:
    """The tables the caller may read: every table over the readable datasets, and per dataset."""
    service = _service(request)
    return service.tables(service.scope(service.caller(_token(credentials))))


@router.get("/table/{table_name}/info")
def table_info(table_name: str, request: Request, credentials: Credentials) -> dict[str, Any]:
    """A table's name, description and data model (JSON Schema)."""
    service = _service(request)
    return service.info(table_name, service.scope(service.caller(_token(credentials))))


@router.get("/table/{table_name}/data")
def table_data(
    table_name: str, request: Request, credentials: Credentials, page_token: PageToken = None
) -> dict[str, Any]:
    """A page of the table's rows, with ``next_page_url`` while more remain."""
    service = _service(request)
    scope = service.scope(service.caller(_token(credentials)))
    url = _page_url(request, f"/table/{table_name}/data")
    return service.data(table_name, scope, page_token, url)


SEARCH_REQUEST = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["query"],
                "properties": {
                    "query": {"type": "string", "description": "One SQL SELECT"},
                    "parameters": {"type": "array", "items": {}, "description": "One per ?"},
                },
            }
        }
    },
}


@router.post("/search", openapi_extra={"requestBody": SEARCH_REQUEST})
async def search(request: Request, credentials: Credentials) -> Any:
    """Run one SQL SELECT over the tables the caller may read (a controlled grant needed)."""
    service = _service(request)
    limit = service.settings.max_query_chars * 4 + 65_536  # a query, its parameters, JSON
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise DataConnectError(
                413, "Request too large", f"the body is over {limit} bytes: send a shorter query"
            )
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        raise DataConnectError(
            400, "Bad request", "the body is not JSON: send a SearchRequest"
        ) from None
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(_search, request, credentials, body, None)


@router.get("/search/page")
def search_page(request: Request, credentials: Credentials, page_token: PageToken = None) -> Any:
    """The next page of a search (a ``next_page_url``); credentials are checked again."""
    if not page_token:
        raise DataConnectError(400, "Bad request", "page_token: follow a next_page_url")
    return _search(request, credentials, None, page_token)


def _search(
    request: Request, credentials: Credentials, body: Any, token: str | None
) -> dict[str, Any]:
    service = _service(request)
    caller = service.caller(_token(credentials))
    scope = service.scope(caller)
    return service.search(body, caller, scope, _page_url(request, "/search/page"), token)


def _token(credentials: HTTPAuthorizationCredentials | None) -> str | None:
    return credentials.credentials if credentials is not None else None


async def error_response(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DataConnectError)
    headers = dict(exc.headers or {})
    if exc.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(exc.body(), exc.status, headers=headers or None)
