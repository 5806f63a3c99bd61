"""The CloudEvents 1.0 envelope: real structured-mode examples and malformed ones."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from harmonize.errors import HarmonizeError
from harmonize.events import (
    SUBMISSION_CREATED,
    SUBMISSION_PUBLISHED,
    SUBMISSION_REJECTED,
    MalformedEvent,
    SubmissionResult,
    created_data,
    parse_envelope,
    result_data,
    submission_created,
    submission_result,
)

SHA = "3f5c" + "0" * 60

# the JSON-format example of the CloudEvents 1.0 spec (json-format.md, section 3.1), with our
# type and data; extension attributes ride along untouched
SPEC_EXAMPLE = {
    "specversion": "1.0",
    "type": "org.ga4gh.harmonize.submission.created",
    "source": "/mycontext",
    "subject": "aire-aps1",
    "id": "C234-1234-1234",
    "time": "2018-04-05T17:31:00Z",
    "comexampleextension1": "value",
    "comexampleothervalue": 5,
    "datacontenttype": "application/json",
    "data": {
        "submission_id": "aire-aps1",
        "manifest_uri": "s3://landing/aire-aps1/manifest.yaml",
        "manifest_sha256": SHA,
    },
}


def raw(**changes: object) -> bytes:
    body = {**SPEC_EXAMPLE, **changes}
    return json.dumps({k: v for k, v in body.items() if v is not ...}).encode()


def test_spec_example_parses_with_extensions_and_time() -> None:
    event = parse_envelope(raw())
    assert event.id == "C234-1234-1234"
    assert event.time == datetime(2018, 4, 5, 17, 31, tzinfo=UTC)
    assert event.model_extra == {"comexampleextension1": "value", "comexampleothervalue": 5}
    data = created_data(event)
    assert (data.submission_id, data.manifest_sha256) == ("aire-aps1", SHA)
    # round trip keeps the extension attributes and the RFC 3339 time
    again = json.loads(event.to_bytes())
    assert again["comexampleothervalue"] == 5
    assert again["time"] == "2018-04-05T17:31:00.000Z"


def test_built_events_have_the_required_attributes() -> None:
    event = submission_created("sub-1", "/landing/sub-1/manifest.yaml", SHA, source="urn:t")
    body = json.loads(event.to_bytes())
    assert body["specversion"] == "1.0"
    assert body["type"] == SUBMISSION_CREATED
    assert body["subject"] == "sub-1"
    assert body["datacontenttype"] == "application/json"
    assert len(body["id"]) == 36 and body["id"].count("-") == 4
    assert body["time"].endswith("Z")
    other = submission_created("sub-1", "/x", SHA, source="urn:t")
    assert other.id != event.id


@pytest.mark.parametrize(
    ("status", "kind"), [("published", SUBMISSION_PUBLISHED), ("rejected", SUBMISSION_REJECTED)]
)
def test_result_events_round_trip(status: str, kind: str) -> None:
    result = SubmissionResult(
        submission_id="sub-1",
        manifest_sha256=SHA,
        status=status,  # type: ignore[arg-type]
        report_uri="file:///ws/reports/sub-1.json",
        bundle_id="bundle-1" if status == "published" else None,
        object_count=7 if status == "published" else 0,
        reason=None if status == "published" else "3 errors",
    )
    event = parse_envelope(submission_result(result, source="urn:t").to_bytes())
    assert event.type == kind
    assert result_data(event) == result


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "a CloudEvent is a JSON object"),
        (raw(specversion="0.3"), "specversion is '0.3'"),
        (raw(specversion=...), "specversion is None"),
        (raw(id=...), "missing required attribute(s): id"),
        (raw(source="", type=...), "missing required attribute(s): source, type"),
        (raw(type="com.example.someevent"), "unknown event type 'com.example.someevent'"),
        (raw(time="yesterday"), "time:"),
        (raw(datacontenttype="text/xml"), "datacontenttype must be application/json"),
        (raw(data=..., data_base64="AAEC"), "data_base64"),
        (raw(data={"submission_id": "aire-aps1"}), "data.manifest_uri: Field required"),
        (
            raw(data={**SPEC_EXAMPLE["data"], "manifest_sha256": "xyz"}),  # type: ignore[dict-item]
            "data.manifest_sha256",
        ),
        (
            raw(data={**SPEC_EXAMPLE["data"], "submission_id": "../etc"}),  # type: ignore[dict-item]
            "data.submission_id",
        ),
        (raw(subject="other"), "subject 'other' differs from data.submission_id"),
    ],
)
def test_malformed_events_say_why(body: bytes, reason: str) -> None:
    with pytest.raises(MalformedEvent) as info:
        parse_envelope(body)
    assert reason in info.value.reason
    assert isinstance(info.value, HarmonizeError)
    assert info.value.transient is False


def test_result_status_must_match_type() -> None:
    result = SubmissionResult(submission_id="s", manifest_sha256=SHA, status="published")
    body = json.loads(submission_result(result, source="urn:t").to_bytes())
    body["type"] = SUBMISSION_REJECTED
    with pytest.raises(MalformedEvent, match="does not match type"):
        parse_envelope(json.dumps(body).encode())


def test_created_data_refuses_other_types() -> None:
    result = SubmissionResult(submission_id="s", manifest_sha256=SHA, status="rejected")
    with pytest.raises(MalformedEvent, match="expected a"):
        created_data(submission_result(result, source="urn:t"))
