"""One event, start to finish, without Airflow: what ``harmonize worker`` does per message."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from harmonize.orchestrate.stages import SOURCE, announce, ingest_received, receive_event
from harmonize.settings import Settings

Outcome = Literal["published", "rejected", "dead-lettered"]


@dataclass(frozen=True)
class Processed:
    outcome: Outcome
    submission_id: str | None = None
    result: Any = None  # the SubmissionResult announced, unless dead-lettered


def process_event(
    raw: bytes,
    settings: Settings,
    bus: Any,
    *,
    origin: dict[str, Any] | None = None,
    source: str = SOURCE,
    before_commit: Callable[[Path], None] | None = None,
) -> Processed:
    """receive -> ingest -> announce for one raw event.

    Idempotent: the same event again finds the version published and re-announces the
    result (consumers dedupe on submission id + manifest sha-256). A malformed event is
    dead-lettered. Transient errors propagate: the caller must not commit the message.
    """
    received = receive_event(raw, settings, bus, origin=origin)
    if received is None:
        return Processed("dead-lettered")
    result_file = ingest_received(received, settings, before_commit=before_commit)
    result = announce(result_file, bus, source=source)
    return Processed(result.status, result.submission_id, result)
