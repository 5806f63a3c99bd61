"""Kafka messages as asset-event payloads, and back (light: no Airflow, no Kafka client).

:class:`~harmonize.orchestrate.kafka_trigger.SubmissionEventTrigger` turns each message
into a payload in the triggerer; the ingest DAG's ``receive`` task gets the raw bytes back.
Nothing here judges the message: a malformed event must still reach the DAG, which
dead-letters it with the reason.
"""

from __future__ import annotations

import base64
from typing import Any

from harmonize.events.bus import Message


def message_payload(message: Message) -> dict[str, Any] | None:
    """A message as a JSON-safe payload: raw bytes in base64, where it was read (``None``: tombstone)."""
    if not message.value:
        return None
    return {
        "value_b64": base64.b64encode(message.value).decode("ascii"),
        "topic": message.topic,
        "partition": message.partition,
        "offset": message.offset,
        "key": message.key,
    }


def payload_bytes(payload: dict[str, Any]) -> bytes:
    """The raw message bytes back out of :func:`message_payload`'s payload.

    >>> payload_bytes({"value_b64": base64.b64encode(b"{}").decode()})
    b'{}'
    """
    return base64.b64decode(payload["value_b64"])


def kafka_servers(events_url: str | None, default: str = "127.0.0.1:9092") -> str:
    """The bootstrap servers of a ``kafka://host:port[,host:port]`` URL (``default`` otherwise).

    >>> kafka_servers("kafka://k1:9092,k2:9092")
    'k1:9092,k2:9092'
    >>> kafka_servers("/var/harmonize/events")
    '127.0.0.1:9092'
    """
    if events_url and events_url.startswith("kafka://"):
        return events_url.removeprefix("kafka://").split("/", 1)[0]
    return default
