"""The ingest DAG's event trigger against a real broker: every message an event, commits behind."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from harmonize.events.kafka import KafkaBus, create_topics
from harmonize.orchestrate.kafka_trigger import SubmissionEventTrigger
from harmonize.orchestrate.trigger import payload_bytes

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


@pytest.fixture
def topic(kafka_broker: Any) -> str:
    name = f"trigger-test-{uuid.uuid4().hex[:8]}"
    create_topics([kafka_broker.bootstrap], {name: 2})
    return name


def send(bootstrap: str, topic: str, values: list[bytes]) -> None:
    bus = KafkaBus([bootstrap])
    try:
        for i, value in enumerate(values):
            bus.publish(topic, value, key=f"sub-{i}")
    finally:
        bus.close()


async def collect(trigger: SubmissionEventTrigger, n: int, timeout_s: float = 60) -> list[Any]:
    """The first ``n`` events the trigger yields; then the trigger is cleaned up."""
    events: list[Any] = []
    gen = trigger.run()
    try:
        async with asyncio.timeout(timeout_s):
            async for event in gen:
                events.append(event.payload)
                if len(events) == n:
                    break
    finally:
        await gen.aclose()
        await trigger.cleanup()
    return events


def make(bootstrap: str, topic: str, group: str, **kwargs: Any) -> SubmissionEventTrigger:
    return SubmissionEventTrigger(
        bootstrap_servers=bootstrap, topic=topic, group_id=group, **kwargs
    )


def test_every_message_is_an_event_then_a_flush_when_they_stop(
    kafka_broker: Any, topic: str
) -> None:
    values = [f'{{"n": {i}}}'.encode() for i in range(5)]
    send(kafka_broker.bootstrap, topic, values)
    trigger = make(kafka_broker.bootstrap, topic, "g1", flush_after_s=(0.5,))
    events = asyncio.run(collect(trigger, 6))
    messages, flush = events[:5], events[5]
    assert sorted(payload_bytes(p) for p in messages) == sorted(values)
    assert all(p["topic"] == topic and p["key"].startswith("sub-") for p in messages)
    assert set(flush) == {"flush"}  # no message in it: the DAG's receive skips it


def test_offsets_are_committed_only_after_the_delay(kafka_broker: Any, topic: str) -> None:
    send(kafka_broker.bootstrap, topic, [b"a", b"b", b"c"])
    # stopped before the delay passed: nothing committed, the group gets them again
    slow = make(kafka_broker.bootstrap, topic, "g2", commit_delay_s=3600, flush_after_s=())
    assert len(asyncio.run(collect(slow, 3))) == 3
    again = make(kafka_broker.bootstrap, topic, "g2", commit_delay_s=0, flush_after_s=(0.5,))
    events = asyncio.run(collect(again, 4))
    assert sorted(payload_bytes(p) for p in events[:3]) == [b"a", b"b", b"c"]
    # committed this time (no delay): a new consumer of the group starts after them
    send(kafka_broker.bootstrap, topic, [b"d"])
    last = make(kafka_broker.bootstrap, topic, "g2", flush_after_s=())
    (event,) = asyncio.run(collect(last, 1))
    assert payload_bytes(event) == b"d"


def test_the_trigger_serializes_to_what_airflow_recreates_it_from() -> None:
    trigger = make("k:9092", "harmonize.submissions", "g", commit_delay_s=2.0)
    path, kwargs = trigger.serialize()
    assert path == "harmonize.orchestrate.kafka_trigger.SubmissionEventTrigger"
    again = SubmissionEventTrigger(**kwargs)
    assert again.serialize() == (path, kwargs)
