"""The submissions API: ``POST /submissions`` (a multipart upload) and ``GET /submissions/{id}``.

A submitter authenticates with a bearer token (configured as token -> submitter name). The
upload is checked whole (manifest, names, sizes, every sha-256) before anything lands; then
it lands, is recorded as ``received`` and announced, exactly as ``harmonize submit`` does.
The answer is 202 with the submission id and a status URL. The status shows the state
machine (received -> processing -> published | rejected) with timestamps and the report.
A submitter sees only their own submissions: anyone else's answer 404.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from harmonize.errors import HarmonizeError, SubmissionError
from harmonize.events.bus import EventBus, open_bus
from harmonize.intake.config import IntakeSettings
from harmonize.intake.submit import submit
from harmonize.intake.uploads import UploadRefused, stage
from harmonize.settings import Settings
from harmonize.state.store import StateStore

API_SOURCE = "urn:harmonize:intake:api"
_bearer = HTTPBearer(auto_error=False, description="A submitter token.")
router = APIRouter(prefix="/submissions", tags=["submissions"])


class Refusal(BaseModel):
    """Every error answer: the message and status, and where the problem is when known."""

    msg: str
    status_code: int
    file: str | None = None
    field: str | None = None
    hint: str | None = None


def _answers(**codes: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for error codes given as ``_400="why"``."""
    return {int(code[1:]): {"model": Refusal, "description": why} for code, why in codes.items()}


_READ_ERRORS = _answers(
    _400="a malformed parameter",
    _401="no valid submitter token",
    _404="no such submission (or report) of this submitter",
)


class Intake:
    """What the routes share: settings, the state store and one event bus per app."""

    def __init__(self, config: IntakeSettings, pipeline: Settings) -> None:
        self.config = config
        self.pipeline = pipeline
        pipeline.workspace.mkdir(parents=True, exist_ok=True)
        self.state = StateStore(pipeline.registry)
        self._bus: EventBus | None = None
        self._lock = threading.Lock()

    @property
    def bus(self) -> EventBus:
        with self._lock:
            if self._bus is None:
                self._bus = open_bus(self.pipeline.events)
            return self._bus


def _error(status: int, msg: str, **extra: Any) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    body = {"msg": msg, "status_code": status, **{k: v for k, v in extra.items() if v}}
    return JSONResponse(body, status, headers=headers)


def _intake(request: Request) -> Intake:
    intake: Intake = request.app.state.intake
    return intake


def _submitter(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str | None:
    if credentials is None:
        return None
    return _intake(request).config.submitter_for(credentials.credentials)


Submitter = Annotated[str | None, Depends(_submitter)]


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _refusal(exc: HarmonizeError) -> JSONResponse:
    status = exc.status_code if isinstance(exc, UploadRefused) else 422
    return _error(status, str(exc), file=exc.file, field=exc.column, hint=exc.hint)


def _land(intake: Intake, directory: Path, submitter: str) -> Any:
    """Check the staged upload (each sha-256), then land and announce it (a worker thread).

    :func:`submit` receives (checks) the directory before anything lands or is emitted.
    """
    return submit(directory, intake.pipeline, bus=intake.bus, source=API_SOURCE)


@router.post(
    "",
    status_code=202,
    summary="Upload a submission (multipart: a 'manifest' part and 'files' parts)",
    responses=_answers(
        _400="the form cannot be parsed",
        _401="no valid submitter token",
        _403="the manifest names another submitter",
        _409="the submission id belongs to another submitter",
        _411="no Content-Length",
        _413="the request, a file or the manifest is over its limit, or too many files",
        _422="the manifest or a file is refused (the answer names the file and the field)",
        _500="the submission could not be landed",
        _503="storage or the event bus is down: try again later",
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["manifest", "files"],
                        "properties": {
                            "manifest": {"type": "string", "format": "binary"},
                            "files": {
                                "type": "array",
                                "items": {"type": "string", "format": "binary"},
                            },
                        },
                    }
                }
            },
        }
    },
)
async def create_submission(request: Request, submitter: Submitter) -> JSONResponse:
    intake = _intake(request)
    if submitter is None:
        return _error(401, "a valid submitter token is required (Authorization: Bearer ...)")
    length = request.headers.get("content-length")
    if length is None:
        return _error(411, "send a Content-Length")
    if not length.isdigit() or int(length) > intake.config.max_request_bytes:
        return _error(413, f"upload is over {intake.config.max_request_bytes:,} bytes")
    uploads = intake.pipeline.workspace / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    directory = Path(tempfile.mkdtemp(prefix="upload-", dir=uploads))
    try:
        async with request.form(
            max_files=intake.config.max_files + 1, max_fields=10, max_part_size=1024 * 1024
        ) as form:
            manifest, _sha = await stage(form, directory, intake.config)
        if manifest.submitter != submitter:
            return _error(
                403,
                f"the manifest names submitter {manifest.submitter!r}; your token is {submitter!r}",
                field="submitter",
            )
        sid = manifest.submission_id
        if sid is not None:
            owners = {v["submitter"] for v in intake.state.versions(sid)}
            if owners - {submitter}:
                return _error(409, f"submission id {sid!r} belongs to another submitter")
        created = await run_in_threadpool(_land, intake, directory, submitter)
    except SubmissionError as exc:
        return _refusal(exc)
    except HarmonizeError as exc:
        if exc.transient:
            return JSONResponse(
                {"msg": f"try again later: {exc}", "status_code": 503},
                503,
                headers={"Retry-After": "30"},
            )
        return _error(500, str(exc))
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    status_url = str(request.url_for("submission_status", submission_id=created.submission_id))
    return JSONResponse(
        {
            "submission_id": created.submission_id,
            "manifest_sha256": created.manifest_sha256,
            "status_url": status_url,
        },
        202,
        headers={"Location": status_url},
    )


def _owned(intake: Intake, submission_id: str, submitter: str) -> list[dict[str, Any]]:
    versions = [v for v in intake.state.versions(submission_id) if v["submitter"] == submitter]
    return sorted(versions, key=lambda v: v["received_at"] or datetime.min)


@router.get(
    "/{submission_id}",
    name="submission_status",
    summary="A submission's state",
    responses=_READ_ERRORS,
)
def submission_status(submission_id: str, request: Request, submitter: Submitter) -> JSONResponse:
    intake = _intake(request)
    if submitter is None:
        return _error(401, "a valid submitter token is required (Authorization: Bearer ...)")
    versions = _owned(intake, submission_id, submitter)
    if not versions:
        return _error(404, f"no submission {submission_id!r}")
    history = intake.state.history(submission_id)
    shown = []
    for v in versions:
        sha = v["manifest_sha256"]
        report = None
        if v["report_path"]:
            report = str(request.url_for("submission_report", submission_id=submission_id))
            report += f"?manifest_sha256={sha}"
        shown.append(
            {
                "manifest_sha256": sha,
                "status": v["status"],
                "received_at": _iso(v["received_at"]),
                "updated_at": _iso(v["updated_at"]),
                "bundle_id": v["bundle_id"],
                "report_url": report,
                "history": [
                    {"status": h["status"], "at": _iso(h["at"]), "detail": h["detail"]}
                    for h in history
                    if h["manifest_sha256"] == sha
                ],
            }
        )
    latest = max(versions, key=lambda v: v["updated_at"] or datetime.min)
    return JSONResponse(
        {"submission_id": submission_id, "status": latest["status"], "versions": shown}
    )


@router.get(
    "/{submission_id}/report",
    name="submission_report",
    summary="A quality report",
    responses=_READ_ERRORS,
)
def submission_report(
    submission_id: str,
    request: Request,
    submitter: Submitter,
    manifest_sha256: Annotated[str, Query(pattern=r"^[0-9a-f]{64}$")],
) -> Any:
    intake = _intake(request)
    if submitter is None:
        return _error(401, "a valid submitter token is required (Authorization: Bearer ...)")
    for v in _owned(intake, submission_id, submitter):
        if v["manifest_sha256"] == manifest_sha256 and v["report_path"]:
            from harmonize.quality.report_store import read_report_file

            try:  # a local path, or an s3:// URI when the reports are in the warehouse
                body = read_report_file(
                    v["report_path"], s3_endpoint_url=intake.pipeline.s3_endpoint_url
                )
            except FileNotFoundError:
                break
            return Response(body, media_type="application/json")
    return _error(404, f"no report for submission {submission_id!r}")


def mount(app: FastAPI, settings: Any) -> None:
    """Serve the submissions API when ``settings.intake`` (a WebSettings field) is configured."""
    config: IntakeSettings | None = getattr(settings, "intake", None)
    if config is None:
        return
    pipeline = Settings(
        workspace=settings.drs.workspace,
        registry_url=settings.drs.registry_url,
        events_url=config.events_url,
        landing_url=config.landing_url,
        s3_endpoint_url=config.s3_endpoint_url,
        max_file_bytes=config.max_file_bytes,
    )
    app.state.intake = Intake(config, pipeline)
    app.include_router(router)
