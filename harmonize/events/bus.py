"""The event bus: one protocol, two transports, chosen by URL.

``kafka://host:port[,host:port]`` is an Apache Kafka cluster (:class:`KafkaBus`); a directory
path or ``file://`` URL is the embedded append-only log (:class:`LocalEventLog`), so the demo
needs no broker.

Consumption is at-least-once on both: :meth:`EventBus.consume` hands out messages from the
group's position, and only :meth:`EventBus.commit` makes the group move past them. A consumer
that dies before committing gets the same messages again when the group resumes.

>>> from harmonize.events.local import LocalEventLog
>>> import tempfile
>>> isinstance(open_bus(tempfile.mkdtemp()), LocalEventLog)
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable
from urllib.parse import unquote, urlparse

from harmonize.errors import ConfigurationError, TransientError


class EventBusUnavailable(TransientError):
    """The broker (or the local log) cannot be reached or written; a retry may help."""


@dataclass(frozen=True)
class Message:
    """One consumed message: where it sits (topic, partition, offset) and what it holds."""

    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes
    headers: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class EventBus(Protocol):
    """Publish and consume (at least once) on named topics."""

    def publish(
        self,
        topic: str,
        value: bytes,
        *,
        key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Append one message; returns once the bus acknowledged it (durably)."""

    def consume(
        self, topic: str, *, group: str, timeout_s: float, max_messages: int
    ) -> list[Message]:
        """Up to ``max_messages`` from the group's position, waiting at most ``timeout_s``."""

    def commit(self, group: str, messages: list[Message]) -> None:
        """Move the group past ``messages`` (after they were processed)."""

    def close(self) -> None:
        """Release connections and group membership; uncommitted messages are redelivered."""


def open_bus(url: str) -> EventBus:
    """``kafka://host:port[,host:port]`` -> :class:`KafkaBus`; a path or ``file://`` -> local log."""
    parsed = urlparse(url)
    if parsed.scheme == "kafka":
        from harmonize.events.kafka import KafkaBus

        servers = [s for s in parsed.netloc.split(",") if s]
        if not servers:
            raise ConfigurationError(f"no bootstrap servers in {url!r}", hint="kafka://host:port")
        return KafkaBus(servers)
    if parsed.scheme == "file":
        from harmonize.events.local import LocalEventLog

        return LocalEventLog(Path(unquote(parsed.path)))
    if parsed.scheme == "":
        from harmonize.events.local import LocalEventLog

        return LocalEventLog(Path(url))
    raise ConfigurationError(
        f"unsupported event bus URL {url!r}",
        hint="use kafka://host:port, a directory path or a file:// URL",
    )
