"""The dead-letter topic: nothing malformed is dropped silently.

:func:`send_to_dlq` wraps the original message, byte for byte, in a
``org.ga4gh.harmonize.submission.dead_lettered`` CloudEvent whose data holds the ``reason``,
the ``original`` (UTF-8 text, or base64 with ``original_encoding: base64``) and where it was
read (``topic``, ``partition``, ``offset``). :func:`replay_dlq` re-drives the originals to
``harmonize.submissions`` once the cause is fixed (``harmonize events replay-dlq``).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from harmonize.events.bus import EventBus, Message
from harmonize.events.envelope import (
    SUBMISSION_DEAD_LETTERED,
    Envelope,
    MalformedEvent,
    parse_envelope,
)
from harmonize.events.topics import DLQ, SUBMISSIONS

DLQ_SOURCE = "urn:harmonize:dlq"
REPLAY_GROUP = "harmonize-dlq-replay"


def dead_letter(
    message_value: bytes,
    reason: str,
    *,
    key: str | None = None,
    source_topic: str = SUBMISSIONS,
    partition: int | None = None,
    offset: int | None = None,
    source: str = DLQ_SOURCE,
) -> Envelope:
    """The dead-letter event for one original message."""
    try:
        original, encoding = message_value.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        original, encoding = base64.b64encode(message_value).decode("ascii"), "base64"
    return Envelope(
        source=source,
        type=SUBMISSION_DEAD_LETTERED,
        subject=key,
        data={
            "reason": reason,
            "original": original,
            "original_encoding": encoding,
            "key": key,
            "topic": source_topic,
            "partition": partition,
            "offset": offset,
        },
    )


def send_to_dlq(
    bus: EventBus,
    message_value: bytes,
    reason: str,
    *,
    key: str | None = None,
    source_topic: str = SUBMISSIONS,
    partition: int | None = None,
    offset: int | None = None,
    source: str = DLQ_SOURCE,
    dlq_topic: str = DLQ,
) -> Envelope:
    """Publish the original message plus the reason on ``harmonize.submissions.dlq``."""
    event = dead_letter(
        message_value,
        reason,
        key=key,
        source_topic=source_topic,
        partition=partition,
        offset=offset,
        source=source,
    )
    bus.publish(dlq_topic, event.to_bytes(), key=key, headers={"reason": reason[:200]})
    return event


def dead_letter_message(bus: EventBus, message: Message, reason: str) -> Envelope:
    """:func:`send_to_dlq` for a consumed message, recording where it was read."""
    return send_to_dlq(
        bus,
        message.value,
        reason,
        key=message.key,
        source_topic=message.topic,
        partition=message.partition,
        offset=message.offset,
    )


def original_of(event: Envelope) -> tuple[bytes, str | None]:
    """The original message bytes and key carried by a dead-letter event."""
    data = event.data
    if not isinstance(data.get("original"), str):
        raise MalformedEvent("dead-letter event without an 'original'")
    raw = (
        base64.b64decode(data["original"])
        if data.get("original_encoding") == "base64"
        else data["original"].encode("utf-8")
    )
    key = data.get("key")
    return raw, key if isinstance(key, str) else None


@dataclass
class ReplayReport:
    """What :func:`replay_dlq` did: ids of re-driven events and those left alone, with why."""

    replayed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def replay_dlq(
    bus: EventBus,
    *,
    group: str = REPLAY_GROUP,
    dlq_topic: str = DLQ,
    target: str = SUBMISSIONS,
    only_valid: bool = True,
    timeout_s: float = 5.0,
    max_messages: int = 1000,
) -> ReplayReport:
    """Re-drive dead-lettered originals to ``target`` and commit the replay group past them.

    With ``only_valid`` an original that is still malformed is not re-driven (it would only
    come back); it is listed in :attr:`ReplayReport.skipped` with the reason it fails today.
    """
    report = ReplayReport()
    while True:
        batch = bus.consume(dlq_topic, group=group, timeout_s=timeout_s, max_messages=max_messages)
        if not batch:
            return report
        for message in batch:
            label = f"{message.topic}:{message.partition}:{message.offset}"
            try:
                event = parse_envelope(message.value)
                if event.type != SUBMISSION_DEAD_LETTERED:
                    raise MalformedEvent(f"not a dead-letter event: {event.type}")
                raw, key = original_of(event)
            except MalformedEvent as exc:
                report.skipped.append((label, exc.reason))
                continue
            if only_valid:
                try:
                    parse_envelope(raw)
                except MalformedEvent as exc:
                    report.skipped.append((label, exc.reason))
                    continue
            bus.publish(target, raw, key=key, headers={"replayed-from": label})
            report.replayed.append(label)
        bus.commit(group, batch)
        timeout_s = min(timeout_s, 0.5)
