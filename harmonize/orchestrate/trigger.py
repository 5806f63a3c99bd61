"""The ``apply_function`` of the Kafka message-queue trigger watching ``harmonize.submissions``.

It runs inside Airflow's triggerer for every message, so it only copies the message into
a JSON-safe payload (the raw bytes, base64) and never judges it: a malformed event must
still reach the DAG, which dead-letters it with the reason.
"""

from __future__ import annotations

import base64
from typing import Any


def message_payload(*args: Any, **_ignored: Any) -> dict[str, Any] | None:
    """A confluent-kafka ``Message`` as the asset event's payload (``None`` for a tombstone).

    The message is the last positional argument. Extra keyword arguments are ignored:
    Airflow 3.2 hands an asset watcher's empty ``apply_function_kwargs`` back still
    serialized (``{"Encoding.VAR": ..., "Encoding.TYPE": ...}``).
    """
    message = args[-1]
    value = message.value()
    if value is None:
        return None
    key = message.key()
    return {
        "value_b64": base64.b64encode(value).decode("ascii"),
        "topic": message.topic(),
        "partition": message.partition(),
        "offset": message.offset(),
        "key": key.decode("utf-8", "replace") if key else None,
    }


def payload_bytes(payload: dict[str, Any]) -> bytes:
    """The raw message bytes back out of :func:`message_payload`'s payload.

    >>> payload_bytes({"value_b64": base64.b64encode(b"{}").decode()})
    b'{}'
    """
    return base64.b64decode(payload["value_b64"])
