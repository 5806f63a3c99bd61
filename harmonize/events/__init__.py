"""Events: CloudEvents 1.0 envelopes on Kafka topics, or on an embedded local log.

A submitter's upload emits ``org.ga4gh.harmonize.submission.created`` on
``harmonize.submissions`` (keyed by submission id); processing announces
``submission.published`` or ``submission.rejected`` on ``harmonize.results``; a message that
cannot be understood goes to ``harmonize.submissions.dlq`` with the reason.
"""

from __future__ import annotations

from harmonize.events.bus import EventBus, EventBusUnavailable, Message, open_bus
from harmonize.events.dlq import (
    ReplayReport,
    dead_letter,
    dead_letter_message,
    replay_dlq,
    send_to_dlq,
)
from harmonize.events.envelope import (
    SUBMISSION_CREATED,
    SUBMISSION_DEAD_LETTERED,
    SUBMISSION_PUBLISHED,
    SUBMISSION_REJECTED,
    Envelope,
    MalformedEvent,
    SubmissionCreated,
    SubmissionResult,
    created_data,
    parse_envelope,
    result_data,
    submission_created,
    submission_result,
)
from harmonize.events.local import LocalEventLog
from harmonize.events.topics import DLQ, RESULTS, SUBMISSIONS

__all__ = [
    "DLQ",
    "RESULTS",
    "SUBMISSIONS",
    "SUBMISSION_CREATED",
    "SUBMISSION_DEAD_LETTERED",
    "SUBMISSION_PUBLISHED",
    "SUBMISSION_REJECTED",
    "Envelope",
    "EventBus",
    "EventBusUnavailable",
    "LocalEventLog",
    "MalformedEvent",
    "Message",
    "ReplayReport",
    "SubmissionCreated",
    "SubmissionResult",
    "created_data",
    "dead_letter",
    "dead_letter_message",
    "open_bus",
    "parse_envelope",
    "replay_dlq",
    "result_data",
    "send_to_dlq",
    "submission_created",
    "submission_result",
]
