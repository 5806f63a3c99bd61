"""The Kafka transport (kafka-python): idempotent producer, manually committed consumers.

The producer is idempotent with ``acks=all``: a retried send never duplicates a message in
its partition, and :meth:`KafkaBus.publish` returns only when every in-sync replica has it.
Messages are keyed by submission id, so all events of one submission land in one partition,
in order. Consumers never auto-commit: :meth:`KafkaBus.commit` is called after processing,
so a consumer that dies before it gets the same messages again (at least once).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable
from typing import Any

from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError, TopicAlreadyExistsError
from kafka.structs import OffsetAndMetadata, TopicPartition

from harmonize.events.bus import EventBusUnavailable, Message
from harmonize.events.topics import DLQ, RESULTS, SUBMISSIONS

log = logging.getLogger(__name__)

# the three topics and their partition counts (the submissions topic is keyed by submission id)
TOPIC_PARTITIONS = {SUBMISSIONS: 3, RESULTS: 3, DLQ: 1}

PRODUCER_CONFIG: dict[str, Any] = {
    "enable_idempotence": True,
    "acks": "all",
    "retries": 2147483647,
    "max_in_flight_requests_per_connection": 5,
    "linger_ms": 5,
    "request_timeout_ms": 30_000,
    "delivery_timeout_ms": 120_000,
}


def consumer_config(group: str) -> dict[str, Any]:
    """Manual commits, start from the beginning when the group has no committed offset."""
    return {
        "group_id": group,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        # Kafka's own default: a member whose heartbeats stop for this long is dropped
        # (heartbeats come from a background thread, but a long GIL-holding call, such as
        # a Delta commit to S3, stalls it)
        "session_timeout_ms": 45_000,
        "heartbeat_interval_ms": 3_000,
        "max_poll_interval_ms": 600_000,
    }


class KafkaBus:
    """An :class:`~harmonize.events.bus.EventBus` on an Apache Kafka cluster."""

    def __init__(
        self,
        bootstrap_servers: list[str],
        *,
        client_id: str = "harmonize",
        connect_timeout_s: float = 30.0,
    ) -> None:
        self.bootstrap_servers = list(bootstrap_servers)
        self.client_id = client_id
        self.bootstrap_timeout_ms = int(connect_timeout_s * 1000)
        self._producer: KafkaProducer | None = None
        self._consumers: dict[tuple[str, str], KafkaConsumer] = {}

    def __repr__(self) -> str:
        return f"KafkaBus({','.join(self.bootstrap_servers)!r})"

    @property
    def producer(self) -> KafkaProducer:
        if self._producer is None:
            try:
                self._producer = KafkaProducer(
                    bootstrap_servers=self.bootstrap_servers,
                    client_id=f"{self.client_id}-producer",
                    bootstrap_timeout_ms=self.bootstrap_timeout_ms,
                    **PRODUCER_CONFIG,
                )
            except KafkaError as exc:
                raise EventBusUnavailable(f"Kafka producer cannot start: {exc!r}") from exc
        return self._producer

    def publish(
        self,
        topic: str,
        value: bytes,
        *,
        key: str | None = None,
        headers: dict[str, str] | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        try:
            future = self.producer.send(
                topic,
                value=value,
                key=key.encode("utf-8") if key is not None else None,
                headers=[(k, v.encode("utf-8")) for k, v in (headers or {}).items()],
            )
            future.get(timeout=timeout_s)
        except KafkaError as exc:
            raise EventBusUnavailable(f"publish to {topic!r} failed: {exc!r}") from exc

    def _consumer(self, topic: str, group: str) -> KafkaConsumer:
        consumer = self._consumers.get((group, topic))
        if consumer is None:
            try:
                consumer = KafkaConsumer(
                    topic,
                    bootstrap_servers=self.bootstrap_servers,
                    client_id=f"{self.client_id}-{group}",
                    bootstrap_timeout_ms=self.bootstrap_timeout_ms,
                    **consumer_config(group),
                )
            except KafkaError as exc:
                raise EventBusUnavailable(f"Kafka consumer cannot start: {exc!r}") from exc
            self._consumers[(group, topic)] = consumer
        return consumer

    def consume(
        self, topic: str, *, group: str, timeout_s: float, max_messages: int
    ) -> list[Message]:
        consumer = self._consumer(topic, group)
        deadline = time.monotonic() + max(timeout_s, 0.0)
        out: list[Message] = []
        try:
            while not out:
                remaining_ms = max(int((deadline - time.monotonic()) * 1000), 0)
                batches = consumer.poll(
                    timeout_ms=min(remaining_ms, 1000), max_records=max_messages
                )
                for records in batches.values():
                    out.extend(_message(r) for r in records)
                if time.monotonic() >= deadline:
                    break
        except KafkaError as exc:
            raise EventBusUnavailable(f"consume from {topic!r} failed: {exc!r}") from exc
        out.sort(key=lambda m: (m.partition, m.offset))
        return out[:max_messages]

    def commit(self, group: str, messages: list[Message]) -> None:
        by_topic: dict[str, dict[TopicPartition, OffsetAndMetadata]] = {}
        for m in messages:
            offsets = by_topic.setdefault(m.topic, {})
            tp = TopicPartition(m.topic, m.partition)
            if tp not in offsets or offsets[tp].offset <= m.offset:
                offsets[tp] = OffsetAndMetadata(m.offset + 1, "", -1)
        try:
            for topic, offsets in by_topic.items():
                self._consumer(topic, group).commit(offsets=offsets)
        except KafkaError as exc:
            raise EventBusUnavailable(f"commit for group {group!r} failed: {exc!r}") from exc

    def close(self) -> None:
        for consumer in self._consumers.values():
            try:
                consumer.close(autocommit=False)
            except KafkaError as exc:  # pragma: no cover - closing a dead connection
                log.warning("closing Kafka consumer: %r", exc)
        self._consumers.clear()
        if self._producer is not None:
            self._producer.close(timeout=10)
            self._producer = None


def _message(record: Any) -> Message:
    headers = {
        k: (v.decode("utf-8", "replace") if v is not None else "") for k, v in record.headers or []
    }
    return Message(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=record.key.decode("utf-8") if record.key is not None else None,
        value=record.value if record.value is not None else b"",
        headers=headers,
    )


def create_topics(
    bootstrap_servers: Iterable[str],
    topics: dict[str, int] | None = None,
    *,
    replication_factor: int = 1,
    min_insync_replicas: int | None = None,
) -> list[str]:
    """Create the topics that do not exist yet (name -> partitions); the names created.

    On a cluster, ``replication_factor=3, min_insync_replicas=2``: with the producer's
    ``acks=all``, a write is acknowledged once two replicas hold it, so losing one broker
    loses no acknowledged event and does not stop writes.
    """
    wanted = topics if topics is not None else TOPIC_PARTITIONS
    configs = (
        {} if min_insync_replicas is None else {"min.insync.replicas": str(min_insync_replicas)}
    )
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=list(bootstrap_servers), client_id="harmonize-admin"
        )
    except KafkaError as exc:
        raise EventBusUnavailable(f"Kafka admin cannot connect: {exc!r}") from exc
    try:
        existing = set(admin.list_topics())
        missing = {n: p for n, p in wanted.items() if n not in existing}
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # created concurrently
                admin.create_topics(
                    {
                        name: {
                            "num_partitions": parts,
                            "replication_factor": replication_factor,
                            "configs": configs,
                        }
                        for name, parts in missing.items()
                    },
                    wait_for_metadata=True,
                )
        return sorted(missing)
    finally:
        admin.close()
