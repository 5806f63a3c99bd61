"""The trigger's apply_function and the edges' settings, without services."""

from __future__ import annotations

from pathlib import Path

import confluent_kafka

from harmonize.orchestrate.config import settings_from_env
from harmonize.orchestrate.faults import CRASH_BEFORE_COMMIT, crash_hook
from harmonize.orchestrate.trigger import message_payload, payload_bytes


def test_the_payload_carries_the_raw_bytes_and_where_they_were_read() -> None:
    raw = b'{"not": "judged here"}\xff'
    message = confluent_kafka.Message(
        topic="harmonize.submissions", partition=2, offset=41, key=b"sub-1", value=raw
    )
    payload = message_payload(message)
    assert payload is not None
    assert payload_bytes(payload) == raw
    assert (payload["topic"], payload["partition"], payload["offset"], payload["key"]) == (
        "harmonize.submissions",
        2,
        41,
        "sub-1",
    )


def test_serialized_leftover_kwargs_from_airflow_are_ignored() -> None:
    """Regression: Airflow 3.2 passed {'Encoding.VAR': {}, ...} as kwargs; the trigger died."""
    message = confluent_kafka.Message(topic="t", partition=0, offset=0, value=b"x")
    payload = message_payload(message, **{"Encoding.VAR": {}, "Encoding.TYPE": "dict"})
    assert payload is not None and payload_bytes(payload) == b"x"


def test_a_tombstone_is_no_event() -> None:
    assert message_payload(confluent_kafka.Message(topic="t", value=None)) is None


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
