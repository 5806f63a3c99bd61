"""The event envelope: CloudEvents 1.0 in structured JSON mode, and the data it carries.

>>> e = submission_created("aire-aps1", "s3://landing/aire-aps1/m.yaml", "ab" * 32, source="/t")
>>> back = parse_envelope(e.to_bytes())
>>> back.type, back.subject, created_data(back).manifest_uri
('org.ga4gh.harmonize.submission.created', 'aire-aps1', 's3://landing/aire-aps1/m.yaml')
>>> try:
...     parse_envelope(b'{"specversion": "0.3"}')
... except MalformedEvent as exc:
...     print(exc.reason)
not a CloudEvents 1.0 event: specversion is '0.3'
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harmonize.errors import TerminalError

SUBMISSION_CREATED = "org.ga4gh.harmonize.submission.created"
SUBMISSION_PUBLISHED = "org.ga4gh.harmonize.submission.published"
SUBMISSION_REJECTED = "org.ga4gh.harmonize.submission.rejected"
SUBMISSION_DEAD_LETTERED = "org.ga4gh.harmonize.submission.dead_lettered"
KNOWN_TYPES = frozenset(
    {SUBMISSION_CREATED, SUBMISSION_PUBLISHED, SUBMISSION_REJECTED, SUBMISSION_DEAD_LETTERED}
)

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class MalformedEvent(TerminalError):
    """An event that cannot be understood: it goes to the dead-letter topic with ``reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            reason, hint="fix the producer, then re-drive it: harmonize events replay-dlq"
        )
        self.reason = reason


class Envelope(BaseModel):
    """A CloudEvents 1.0 event (structured JSON mode); extension attributes are kept."""

    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(default_factory=lambda: str(uuid.uuid4()), min_length=1)
    source: str = Field(min_length=1)
    type: str = Field(min_length=1)
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    subject: str | None = None
    datacontenttype: str = "application/json"
    data: dict[str, Any] = Field(default_factory=dict)

    def to_bytes(self) -> bytes:
        """Structured-mode JSON (``application/cloudevents+json``)."""
        body = self.model_dump(mode="json", exclude_none=True)
        body["time"] = self.time.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return orjson.dumps(body)


class SubmissionCreated(BaseModel):
    """``data`` of a submission.created event: where the landed manifest is and its hash."""

    model_config = ConfigDict(frozen=True)

    submission_id: str
    manifest_uri: str = Field(min_length=1)  # file path, file:// URI or s3:// URI
    manifest_sha256: str

    @field_validator("submission_id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError("submission id must be 1-128 letters, digits, '.', '_' or '-'")
        return v

    @field_validator("manifest_sha256")
    @classmethod
    def _sha(cls, v: str) -> str:
        if not _SHA256.match(v):
            raise ValueError("manifest_sha256 must be 64 lowercase hexadecimal characters")
        return v


class SubmissionResult(BaseModel):
    """``data`` of a submission.published / submission.rejected event."""

    model_config = ConfigDict(frozen=True)

    submission_id: str
    manifest_sha256: str
    status: Literal["published", "rejected"]
    report_uri: str | None = None
    bundle_id: str | None = None
    object_count: int = 0
    reason: str | None = None
    version: int | None = None  # the submission's version (published only)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "event"
    return f"{where}: {err['msg']}"


def parse_envelope(raw: bytes) -> Envelope:
    """Parse and check one structured-mode CloudEvent; every problem is a :class:`MalformedEvent`."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedEvent(f"not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise MalformedEvent(f"a CloudEvent is a JSON object, not {type(body).__name__}")
    if body.get("specversion") != "1.0":
        raise MalformedEvent(
            f"not a CloudEvents 1.0 event: specversion is {body.get('specversion')!r}"
        )
    missing = [a for a in ("id", "source", "type") if not body.get(a)]
    if missing:
        raise MalformedEvent(f"missing required attribute(s): {', '.join(missing)}")
    if body["type"] not in KNOWN_TYPES:
        raise MalformedEvent(f"unknown event type {body['type']!r}")
    if body.get("datacontenttype", "application/json") != "application/json":
        raise MalformedEvent(
            f"datacontenttype must be application/json: {body['datacontenttype']!r}"
        )
    if "data_base64" in body:
        raise MalformedEvent("binary data (data_base64) is not accepted; send JSON data")
    try:
        envelope = Envelope.model_validate(body)
    except ValidationError as exc:
        raise MalformedEvent(_first_error(exc)) from exc
    if envelope.type != SUBMISSION_DEAD_LETTERED:
        sid = envelope.data.get("submission_id")
        if envelope.subject is not None and sid is not None and envelope.subject != sid:
            raise MalformedEvent(f"subject {envelope.subject!r} differs from data.submission_id")
    if envelope.type in (SUBMISSION_PUBLISHED, SUBMISSION_REJECTED):
        result_data(envelope)
    elif envelope.type == SUBMISSION_CREATED:
        created_data(envelope)
    return envelope


def created_data(envelope: Envelope) -> SubmissionCreated:
    """The checked data of a submission.created event."""
    if envelope.type != SUBMISSION_CREATED:
        raise MalformedEvent(f"expected a {SUBMISSION_CREATED} event, got {envelope.type!r}")
    try:
        return SubmissionCreated.model_validate(envelope.data)
    except ValidationError as exc:
        raise MalformedEvent(f"data.{_first_error(exc)}") from exc


def result_data(envelope: Envelope) -> SubmissionResult:
    """The checked data of a submission.published or submission.rejected event."""
    try:
        result = SubmissionResult.model_validate(envelope.data)
    except ValidationError as exc:
        raise MalformedEvent(f"data.{_first_error(exc)}") from exc
    expected = SUBMISSION_PUBLISHED if result.status == "published" else SUBMISSION_REJECTED
    if envelope.type != expected:
        raise MalformedEvent(f"status {result.status!r} does not match type {envelope.type!r}")
    return result


def submission_created(
    submission_id: str, manifest_uri: str, manifest_sha256: str, *, source: str
) -> Envelope:
    """A submission.created event (its subject is the submission id)."""
    data = SubmissionCreated(
        submission_id=submission_id, manifest_uri=manifest_uri, manifest_sha256=manifest_sha256
    )
    return Envelope(
        source=source, type=SUBMISSION_CREATED, subject=submission_id, data=data.model_dump()
    )


def submission_result(result: SubmissionResult, *, source: str) -> Envelope:
    """A submission.published or submission.rejected event."""
    kind = SUBMISSION_PUBLISHED if result.status == "published" else SUBMISSION_REJECTED
    return Envelope(
        source=source, type=kind, subject=result.submission_id, data=result.model_dump()
    )
