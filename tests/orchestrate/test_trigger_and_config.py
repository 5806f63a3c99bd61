"""The trigger's apply_function and the edges' settings, without services."""

from __future__ import annotations

import json
from pathlib import Path

from harmonize.events.bus import Message
from harmonize.orchestrate.config import settings_from_env
from harmonize.orchestrate.faults import CRASH_BEFORE_COMMIT, crash_hook
from harmonize.orchestrate.trigger import kafka_servers, message_payload, payload_bytes


def test_the_payload_carries_the_raw_bytes_and_where_they_were_read() -> None:
    raw = b'{"not": "judged here"}\xff'
    message = Message("harmonize.submissions", 2, 41, "sub-1", raw)
    payload = message_payload(message)
    assert payload is not None
    assert payload_bytes(payload) == raw
    assert (payload["topic"], payload["partition"], payload["offset"], payload["key"]) == (
        "harmonize.submissions",
        2,
        41,
        "sub-1",
    )
    assert json.loads(json.dumps(payload)) == payload  # an asset event's extra is JSON


def test_a_tombstone_is_no_event() -> None:
    assert message_payload(Message("t", 0, 0, None, b"")) is None


def test_the_trigger_reads_the_broker_from_the_events_url() -> None:
    assert kafka_servers("kafka://k1:9092,k2:9092") == "k1:9092,k2:9092"
    assert kafka_servers("/var/harmonize/events") == "127.0.0.1:9092"
    assert kafka_servers(None, default="kafka:9092") == "kafka:9092"


def test_settings_from_the_environment(tmp_path: Path) -> None:
    settings = settings_from_env(
        {
            "HARMONIZE_WORKSPACE": str(tmp_path),
            "HARMONIZE_EVENTS_URL": "kafka://127.0.0.1:1",
            "HARMONIZE_ON_CONFLICT": "keep-observed",
            "UNRELATED": "x",
        }
    )
    assert settings.workspace == tmp_path
    assert settings.events == "kafka://127.0.0.1:1"
    assert settings.on_conflict == "keep-observed"
    assert settings.landing == str(tmp_path / "landing")


def test_no_faults_directory_means_no_hook(tmp_path: Path) -> None:
    assert crash_hook(None, "s") is None
    hook = crash_hook(tmp_path, "s")
    assert hook is not None
    hook(tmp_path)  # no marker: returns, the process lives on
    assert not (tmp_path / f"{CRASH_BEFORE_COMMIT}s").exists()
