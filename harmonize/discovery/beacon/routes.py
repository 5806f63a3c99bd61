"""The Beacon's HTTP routes under ``/ga4gh/beacon/v2``: thin, every answer from :class:`.Beacon`.

GET takes query parameters, POST a ``beaconRequestBody``; both reach the same
:meth:`Beacon.answer`. Credentials are the DRS service's: a bearer JWT (a GA4GH Passport
whose ControlledAccessGrants visas name datasets), checked by the same
:class:`~harmonize.drs.auth.Authority`. Each client (its token, else its address) has a
query budget, kept in the registry database and so shared by every worker; past it the
answer is HTTP 429 (503 when the budget cannot be checked).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from harmonize.discovery.beacon import info
from harmonize.discovery.beacon.config import PREFIX, BeaconSettings
from harmonize.discovery.beacon.engine import Beacon
from harmonize.discovery.beacon.errors import BeaconRequestError
from harmonize.discovery.beacon.privacy import Budget, BudgetUnavailable
from harmonize.discovery.beacon.request import Entry, Query, from_get, from_post
from harmonize.discovery.beacon.responses import error

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024  # a Beacon request body is small; larger ones are refused (413)


class BeaconState:
    """The Beacon of one app, built on first use (the HPO closure loads then)."""

    def __init__(self, app: FastAPI, settings: BeaconSettings) -> None:
        self.app = app
        self.settings = settings
        self.budget = Budget(
            app.state.registry.engine, settings.budget_queries, settings.budget_window_seconds
        )
        self._beacon: Beacon | None = None
        self._lock = threading.Lock()

    def beacon(self) -> Beacon:
        with self._lock:
            if self._beacon is None:
                state = self.app.state
                self._beacon = Beacon(
                    state.pipeline,
                    state.registry,
                    self.settings,
                    visa_value=state.settings.auth.visa_value,
                )
            return self._beacon


def _state(request: Request) -> BeaconState:
    found: BeaconState = request.app.state.beacon
    return found


def _failure(settings: BeaconSettings, exc: BeaconRequestError, entry: str) -> JSONResponse:
    message = exc.message + (f". {exc.hint}" if exc.hint else "")
    return JSONResponse(error(settings, exc.status, message, entry), status_code=exc.status)


def _grants(request: Request, body: Any) -> frozenset[str]:
    header = request.headers.get("authorization", "")
    bearer = header[7:].strip() if header.lower().startswith("bearer ") else None
    passports = body.get("passports") if isinstance(body, dict) else None
    if passports is not None and not (
        isinstance(passports, list) and all(isinstance(p, str) for p in passports)
    ):
        raise BeaconRequestError("passports must be a list of JWTs")
    caller = request.app.state.authority.caller(bearer or None, passports)
    if caller.problem is not None:
        raise BeaconRequestError(f"credentials not accepted: {caller.problem}", status=401)
    return frozenset(caller.grants)


async def _bounded_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    too_big = BeaconRequestError(
        f"request body over {MAX_BODY_BYTES} bytes", status=413, hint="send fewer filters"
    )
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_big
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


def _client(request: Request) -> str:
    header = request.headers.get("authorization", "")
    if header:
        return "token:" + hashlib.sha256(header.encode()).hexdigest()[:16]
    return "address:" + (request.client.host if request.client else "unknown")


async def _answer(request: Request, entry: Entry, **scope: str) -> JSONResponse:
    state = _state(request)
    settings = state.settings
    try:
        allowed = await run_in_threadpool(state.budget.spend, _client(request))
    except BudgetUnavailable as unavailable:
        log.warning("beacon query budget cannot be checked: %s", unavailable)
        refused = BeaconRequestError(
            "the query budget cannot be checked right now", status=503, hint="try again later"
        )
        return _failure(settings, refused, entry)
    if not allowed:
        exc = BeaconRequestError(
            "query budget used up for this client",
            status=429,
            hint=f"at most {settings.budget_queries} queries per "
            f"{settings.budget_window_seconds} s; try again later",
        )
        return _failure(settings, exc, entry)
    try:
        body: Any = None
        if request.method == "POST":
            raw = await _bounded_body(request)
            if raw.strip():
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise BeaconRequestError("the request body is not JSON") from None
            query: Query = from_post(entry, body)
        else:
            query = from_get(entry, dict(request.query_params))
        query.individual_id = scope.get("individual_id")
        query.dataset_id = scope.get("dataset_id")
        grants = _grants(request, body)
        beacon = await run_in_threadpool(state.beacon)
        answer = await run_in_threadpool(beacon.answer, query, grants)
    except BeaconRequestError as exc:
        log.info("beacon request refused: %s", exc)
        return _failure(settings, exc, entry)
    return JSONResponse(answer)


router = APIRouter(tags=["Beacon v2"])


@router.get("")
@router.get("/")
@router.get("/info")
async def beacon_info(request: Request) -> JSONResponse:
    return JSONResponse(info.info(_state(request).settings))


@router.get("/service-info")
async def service_info(request: Request) -> JSONResponse:
    return JSONResponse(info.service_info(_state(request).settings))


@router.get("/configuration")
async def configuration(request: Request) -> JSONResponse:
    return JSONResponse(info.configuration(_state(request).settings))


@router.get("/entry_types")
async def entry_types(request: Request) -> JSONResponse:
    return JSONResponse(info.entry_types(_state(request).settings))


@router.get("/map")
async def beacon_map(request: Request) -> JSONResponse:
    return JSONResponse(info.beacon_map(_state(request).settings, str(request.base_url)))


@router.get("/filtering_terms")
async def filtering_terms(request: Request) -> JSONResponse:
    """Every term in the data; ``skip`` and ``limit`` page the list when given."""
    state = _state(request)
    try:
        page = [_page_value(name, request.query_params.getlist(name)) for name in ("skip", "limit")]
    except BeaconRequestError as exc:
        return _failure(state.settings, exc, "individuals")
    beacon = await run_in_threadpool(state.beacon)
    answer = await run_in_threadpool(info.filtering_terms, beacon)
    skip, limit = page
    if skip is not None or limit is not None:
        terms = answer["response"]["filteringTerms"]
        start = skip or 0
        stop = start + limit if limit else None
        answer = {**answer, "response": {**answer["response"], "filteringTerms": terms[start:stop]}}
    return JSONResponse(answer)


def _page_value(name: str, values: list[str]) -> int | None:
    if not values:
        return None
    if len(values) > 1 or not values[0].isdigit():
        raise BeaconRequestError(f"{name} must be one non-negative integer, not {values!r}")
    return int(values[0])


@router.api_route("/individuals", methods=["GET", "POST"])
async def individuals(request: Request) -> JSONResponse:
    return await _answer(request, "individuals")


@router.api_route("/individuals/{individual_id}", methods=["GET", "POST"])
async def individual(request: Request, individual_id: str) -> JSONResponse:
    return await _answer(request, "individuals", individual_id=individual_id)


@router.api_route("/individuals/{individual_id}/g_variants", methods=["GET", "POST"])
async def individual_variants(request: Request, individual_id: str) -> JSONResponse:
    return await _answer(request, "g_variants", individual_id=individual_id)


@router.api_route("/g_variants", methods=["GET", "POST"])
async def g_variants(request: Request) -> JSONResponse:
    return await _answer(request, "g_variants")


@router.api_route("/datasets", methods=["GET", "POST"])
async def datasets(request: Request) -> JSONResponse:
    return await _answer(request, "datasets")


@router.api_route("/datasets/{dataset_id}", methods=["GET", "POST"])
async def dataset(request: Request, dataset_id: str) -> JSONResponse:
    return await _answer(request, "datasets", dataset_id=dataset_id)


@router.api_route("/datasets/{dataset_id}/individuals", methods=["GET", "POST"])
async def dataset_individuals(request: Request, dataset_id: str) -> JSONResponse:
    return await _answer(request, "individuals", dataset_id=dataset_id)


def mount(app: FastAPI, settings: BeaconSettings) -> None:
    """Serve the Beacon on ``app`` (the DRS app: its registry, pipeline and authority)."""
    app.state.beacon = BeaconState(app, settings)
    app.include_router(router, prefix=PREFIX)
