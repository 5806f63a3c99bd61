"""The event trigger behind ``harmonize_ingest``'s ``AssetWatcher``: one long-lived consumer.

Why not the apache-kafka provider's ``MessageQueueTrigger``? It fires on one message and
then ends; the triggerer re-creates it, with a new consumer joining the group, before the
next message can fire. Measured on a 2-core machine, that is one asset event every ~2 s:
a burst of 20 submissions spent 40 s in the trigger alone. This trigger keeps its consumer
and yields every message as its own event, as fast as the broker hands them over.

Delivery. An offset is committed only ``commit_delay_s`` after its event was yielded (the
triggerer persists yielded events on its next loop, within about a second), and never when
the trigger stops: the triggerer dying before it persisted an event leaves that message
uncommitted, so it is delivered again (at least once; processing is idempotent). What
remains is a triggerer that yields, stays alive past the delay and still loses the event;
the landing scan (``harmonize_landing_scan``) re-announces any landed version that never
got a run.

Airflow drops nothing, but it strands: an asset event stored while the scheduler creates a
run for the events before it belongs to no run until the next event arrives (the run takes
the events up to its queue entry's time, and the entry is deleted). The last submissions
of a burst would wait for the next upload. So once messages stop coming, the trigger
yields a ``flush`` event (no message in it) ``flush_after_s`` later, and again at each
later delay: its run picks up the stranded events, or ends at once when there are none.

The payload is the message (raw bytes in base64, topic, partition, offset, key): a
malformed event must still reach the DAG, which dead-letters it with the reason. Broker
outages are waited out with backoff; the trigger itself never fails on them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from harmonize.orchestrate.trigger import message_payload

log = logging.getLogger(__name__)

CLASSPATH = "harmonize.orchestrate.kafka_trigger.SubmissionEventTrigger"


class SubmissionEventTrigger(BaseEventTrigger):
    """Yield one event per message on ``topic``, committing offsets behind the events."""

    def __init__(
        self,
        *,
        bootstrap_servers: str,
        topic: str,
        group_id: str,
        poll_timeout_s: float = 1.0,
        max_messages: int = 100,
        commit_delay_s: float = 5.0,
        flush_after_s: tuple[float, ...] = (2.0, 10.0),
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self.group_id = group_id
        self.poll_timeout_s = poll_timeout_s
        self.max_messages = max_messages
        self.commit_delay_s = commit_delay_s
        self.flush_after_s = tuple(flush_after_s)
        self._bus: Any = None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            CLASSPATH,
            {
                "bootstrap_servers": self.bootstrap_servers,
                "topic": self.topic,
                "group_id": self.group_id,
                "poll_timeout_s": self.poll_timeout_s,
                "max_messages": self.max_messages,
                "commit_delay_s": self.commit_delay_s,
                "flush_after_s": list(self.flush_after_s),
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:  # type: ignore[override]
        from harmonize.events.bus import EventBusUnavailable

        pending: list[tuple[float, Any]] = []  # (yielded at, message) not yet committed
        backoff = 1.0
        last_yield: float | None = None  # when the last message event went out
        flushes: list[float] = []  # delays after last_yield still to flush at
        while True:
            if last_yield is not None and flushes and time.monotonic() - last_yield >= flushes[0]:
                flushes.pop(0)
                yield TriggerEvent({"flush": time.time()})  # type: ignore[no-untyped-call]
            try:
                if self._bus is None:
                    self._bus = await asyncio.to_thread(self._open)
                messages = await asyncio.to_thread(
                    self._bus.consume,
                    self.topic,
                    group=self.group_id,
                    timeout_s=self.poll_timeout_s,
                    max_messages=self.max_messages,
                )
                for message in messages:
                    payload = message_payload(message)
                    if payload is None:  # a tombstone: nothing to ingest
                        pending.append((0.0, message))
                        continue
                    yield TriggerEvent(payload)  # type: ignore[no-untyped-call]
                    pending.append((time.monotonic(), message))
                    last_yield, flushes = time.monotonic(), list(self.flush_after_s)
                pending = await asyncio.to_thread(self._commit_due, pending)
                backoff = 1.0
            except EventBusUnavailable as exc:
                log.warning("Kafka unavailable (%s); retrying in %.0f s", exc, backoff)
                await asyncio.to_thread(self._close)
                pending = []  # uncommitted messages come again to the next consumer
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)

    def _open(self) -> Any:
        from harmonize.events.kafka import KafkaBus

        servers = [s.strip() for s in self.bootstrap_servers.split(",") if s.strip()]
        return KafkaBus(servers, client_id="harmonize-trigger")

    def _commit_due(self, pending: list[tuple[float, Any]]) -> list[tuple[float, Any]]:
        """Commit the messages yielded at least ``commit_delay_s`` ago; the rest stay pending."""
        cutoff = time.monotonic() - self.commit_delay_s
        due = [m for at, m in pending if at <= cutoff]
        if due:
            self._bus.commit(self.group_id, due)
        return [(at, m) for at, m in pending if at > cutoff]

    def _close(self) -> None:
        bus, self._bus = self._bus, None
        if bus is not None:
            try:
                bus.close()
            except Exception:  # closing a broken connection
                log.warning("closing the Kafka consumer failed", exc_info=True)

    async def cleanup(self) -> None:
        await asyncio.to_thread(self._close)
