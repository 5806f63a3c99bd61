"""The Kafka transport against a real broker (KRaft, started by infra/kafka.sh)."""

from __future__ import annotations

import uuid
from collections import defaultdict

import pytest

from harmonize.events import (
    EventBus,
    Message,
    open_bus,
    parse_envelope,
    replay_dlq,
    send_to_dlq,
    submission_created,
)
from harmonize.events.kafka import KafkaBus, create_topics
from tests.support.kafka import KafkaBroker

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def drain(
    bus: EventBus, topic: str, group: str, want: int, *, timeout_s: float = 60
) -> list[Message]:
    import time

    out: list[Message] = []
    deadline = time.monotonic() + timeout_s
    while len(out) < want and time.monotonic() < deadline:
        out += bus.consume(topic, group=group, timeout_s=2, max_messages=100)
    return out


def test_round_trip_keys_and_partitions(kafka_url: str, kafka_group: str) -> None:
    topic = f"test.roundtrip.{uuid.uuid4().hex[:8]}"
    bootstrap = kafka_url.removeprefix("kafka://").split(",")
    assert create_topics(bootstrap, {topic: 3}) == [topic]
    assert create_topics(bootstrap, {topic: 3}) == []  # idempotent
    bus = open_bus(kafka_url)
    assert isinstance(bus, KafkaBus)
    try:
        keys = [f"sub-{i}" for i in range(8)]
        for n in range(5):
            for key in keys:
                bus.publish(topic, f"{key}:{n}".encode(), key=key, headers={"n": str(n)})
        got = drain(bus, topic, kafka_group, 40)
        assert len(got) == 40
        partitions: dict[str, set[int]] = defaultdict(set)
        order: dict[str, list[str]] = defaultdict(list)
        for m in got:
            assert m.key is not None
            partitions[m.key].add(m.partition)
            order[m.key].append(m.value.decode())
            assert m.headers["n"] == m.value.decode().split(":")[1]
        assert all(len(p) == 1 for p in partitions.values())  # one key, one partition
        assert len({next(iter(p)) for p in partitions.values()}) > 1  # keys spread out
        for key in keys:  # in order within a key
            assert order[key] == [f"{key}:{n}" for n in range(5)]
    finally:
        bus.close()


def test_producer_is_idempotent_with_acks_all(kafka_url: str) -> None:
    bus = open_bus(kafka_url)
    assert isinstance(bus, KafkaBus)
    try:
        bus.publish(f"test.idem.{uuid.uuid4().hex[:8]}", b"x", key="k")
        producer = bus.producer
        assert producer.config["enable_idempotence"] is True
        assert producer.config["acks"] == -1  # "all"
        manager = producer._transaction_manager
        assert manager is not None
        assert manager.producer_id_and_epoch.producer_id >= 0  # the broker assigned one
    finally:
        bus.close()


def test_crash_before_commit_redelivers(kafka_url: str, kafka_group: str) -> None:
    topic = f"test.alo.{uuid.uuid4().hex[:8]}"
    create_topics(kafka_url.removeprefix("kafka://").split(","), {topic: 1})
    producer = open_bus(kafka_url)
    for i in range(4):
        producer.publish(topic, f"m{i}".encode(), key="s")
    producer.close()

    first = open_bus(kafka_url)
    got = drain(first, topic, kafka_group, 4)
    assert [m.value for m in got] == [b"m0", b"m1", b"m2", b"m3"]
    first.commit(kafka_group, got[:2])  # processed m0, m1 ... then "crashed"
    first.close()

    second = open_bus(kafka_url)
    try:
        again = drain(second, topic, kafka_group, 2)
        assert [m.value for m in again] == [b"m2", b"m3"]
        second.commit(kafka_group, again)
    finally:
        second.close()

    third = open_bus(kafka_url)
    try:
        assert third.consume(topic, group=kafka_group, timeout_s=3, max_messages=10) == []
    finally:
        third.close()


def test_dead_letters_and_replay_on_kafka(kafka_url: str, kafka_group: str) -> None:
    bus = open_bus(kafka_url)
    assert isinstance(bus, KafkaBus)
    # topics of the test's own: a replay must not re-drive other tests' dead letters
    dlq, target = f"test.dlq.{kafka_group}", f"test.subs.{kafka_group}"
    create_topics(bus.bootstrap_servers, {dlq: 1, target: 3})
    sid = f"sub-{uuid.uuid4().hex[:8]}"
    try:
        good = submission_created(sid, f"/landing/{sid}/manifest.yaml", "ab" * 32, source="urn:t")
        send_to_dlq(bus, good.to_bytes(), "profile missing then", key=sid, dlq_topic=dlq)
        send_to_dlq(bus, b"\x00not json", "not JSON", key=sid, dlq_topic=dlq)
        letters = drain(bus, dlq, kafka_group, 2)
        assert [parse_envelope(m.value).data["reason"] for m in letters] == [
            "profile missing then",
            "not JSON",
        ]
        report = replay_dlq(
            bus, group=f"{kafka_group}-replay", dlq_topic=dlq, target=target, timeout_s=5
        )
        assert report.replayed == [f"{dlq}:0:0"]
        assert [(label, why[:8]) for label, why in report.skipped] == [(f"{dlq}:0:1", "not JSON")]
        redriven = drain(bus, target, f"{kafka_group}-w", 1)
        assert [(m.key, m.value) for m in redriven] == [(sid, good.to_bytes())]
    finally:
        bus.close()


def test_broker_restart_keeps_messages_and_offsets(
    kafka_broker: KafkaBroker, kafka_group: str
) -> None:
    topic = f"test.restart.{uuid.uuid4().hex[:8]}"
    create_topics([kafka_broker.bootstrap], {topic: 1})
    bus = open_bus(kafka_broker.url)
    try:
        bus.publish(topic, b"before", key="s")
        got = drain(bus, topic, kafka_group, 1)
        bus.commit(kafka_group, got)
    finally:
        bus.close()
    kafka_broker.restart()
    assert kafka_broker.is_running()
    bus = open_bus(kafka_broker.url)
    try:
        bus.publish(topic, b"after", key="s")
        got = drain(bus, topic, kafka_group, 1)
        assert [m.value for m in got] == [b"after"]  # "before" stayed committed
    finally:
        bus.close()
