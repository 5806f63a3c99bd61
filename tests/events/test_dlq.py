"""Dead letters keep the original and the reason; replay re-drives them after a fix."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from harmonize.events import (
    DLQ,
    SUBMISSION_DEAD_LETTERED,
    SUBMISSIONS,
    LocalEventLog,
    Message,
    created_data,
    parse_envelope,
    replay_dlq,
    send_to_dlq,
    submission_created,
)
from harmonize.events.dlq import dead_letter_message

SHA = "ab" * 32


def test_dead_letter_holds_original_reason_and_origin(tmp_path: Path) -> None:
    bus = LocalEventLog(tmp_path)
    original = Message(SUBMISSIONS, 2, 41, "sub-9", b'{"specversion": "0.3"}', {})
    dead_letter_message(bus, original, "not a CloudEvents 1.0 event")
    [msg] = bus.consume(DLQ, group="g", timeout_s=0, max_messages=5)
    event = parse_envelope(msg.value)
    assert event.type == SUBMISSION_DEAD_LETTERED
    assert msg.key == "sub-9" and msg.headers["reason"] == "not a CloudEvents 1.0 event"
    assert event.data["reason"] == "not a CloudEvents 1.0 event"
    assert event.data["original"] == '{"specversion": "0.3"}'
    assert (event.data["topic"], event.data["partition"], event.data["offset"]) == (
        SUBMISSIONS,
        2,
        41,
    )


def test_binary_originals_are_base64(tmp_path: Path) -> None:
    bus = LocalEventLog(tmp_path)
    send_to_dlq(bus, b"\x00\xffgarbage", "not JSON")
    [msg] = bus.consume(DLQ, group="g", timeout_s=0, max_messages=5)
    data = json.loads(msg.value)["data"]
    assert data["original_encoding"] == "base64"
    assert base64.b64decode(data["original"]) == b"\x00\xffgarbage"


def test_replay_redrives_fixed_events_and_skips_still_malformed(tmp_path: Path) -> None:
    bus = LocalEventLog(tmp_path)
    good = submission_created("sub-1", "/landing/sub-1/manifest.yaml", SHA, source="urn:t")
    # dead-lettered because processing could not handle it then (e.g. a missing profile)
    send_to_dlq(bus, good.to_bytes(), "unknown profile 'x' (fixed since)", key="sub-1")
    send_to_dlq(bus, b"{broken", "not JSON", key="sub-2")
    report = replay_dlq(bus, timeout_s=0.2)
    assert report.replayed == [f"{DLQ}:0:0"]
    assert [(label, why[:8]) for label, why in report.skipped] == [(f"{DLQ}:0:1", "not JSON")]
    [redriven] = bus.consume(SUBMISSIONS, group="worker", timeout_s=0, max_messages=5)
    assert redriven.value == good.to_bytes()  # byte for byte: same event id, consumers dedupe
    assert redriven.key == "sub-1"
    assert redriven.headers["replayed-from"] == f"{DLQ}:0:0"
    assert created_data(parse_envelope(redriven.value)).submission_id == "sub-1"
    # the replay group has moved on: a second replay re-drives nothing
    again = replay_dlq(bus, timeout_s=0.2)
    assert again.replayed == [] and again.skipped == []


def test_replay_everything_when_asked(tmp_path: Path) -> None:
    bus = LocalEventLog(tmp_path)
    send_to_dlq(bus, b"{broken", "not JSON", key="sub-2")
    report = replay_dlq(bus, only_valid=False, timeout_s=0.2)
    assert len(report.replayed) == 1
    [msg] = bus.consume(SUBMISSIONS, group="w", timeout_s=0, max_messages=5)
    assert msg.value == b"{broken"
