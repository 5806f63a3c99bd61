"""``harmonize worker``: consume ``harmonize.submissions``, process, then commit.

At-least-once: a message is committed only after its result is announced (or it was
dead-lettered), so a crash re-delivers it and idempotent processing makes the replay
harmless. A transient error stops the batch uncommitted; the next poll retries it.

The bus failing is transient too: a poll or a commit that fails (a broker lost, or the
group rebalanced while this worker was busy, so its partitions went to another member)
is logged and the loop goes on. A commit refused after a rebalance leaves the messages to
their new owner, which processes them again, harmlessly.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harmonize.errors import TransientError
from harmonize.orchestrate.process import Processed, process_event
from harmonize.settings import Settings

GROUP = "harmonize-worker"
log = logging.getLogger(__name__)


@dataclass
class WorkerStats:
    processed: list[Processed] = field(default_factory=list)
    transient_failures: int = 0


def run_worker(
    settings: Settings,
    bus: Any,
    *,
    once: bool = False,
    group: str = GROUP,
    poll_s: float = 1.0,
    max_messages: int = 16,
    backoff_s: float = 2.0,
    should_stop: Callable[[], bool] = lambda: False,
    on_processed: Callable[[Processed], None] | None = None,
) -> WorkerStats:
    """Process messages until ``should_stop()`` (or, with ``once``, until the topic is drained)."""
    from harmonize.events import SUBMISSIONS

    stats = WorkerStats()
    while not should_stop():
        try:
            messages = bus.consume(
                SUBMISSIONS, group=group, timeout_s=poll_s, max_messages=max_messages
            )
        except TransientError as exc:
            stats.transient_failures += 1
            log.warning("polling failed, will retry: %s", exc)
            if once:
                break
            time.sleep(backoff_s)
            continue
        if not messages:
            if once:
                break
            continue
        done = []
        for message in messages:
            origin = {
                "topic": message.topic,
                "partition": message.partition,
                "offset": message.offset,
                "key": message.key,
            }
            try:
                processed = process_event(message.value, settings, bus, origin=origin)
            except TransientError as exc:
                stats.transient_failures += 1
                log.warning("transient failure, will retry: %s", exc)
                break
            done.append(message)
            stats.processed.append(processed)
            if on_processed is not None:
                on_processed(processed)
        if done:
            try:
                bus.commit(group, done)
            except TransientError as exc:
                stats.transient_failures += 1
                log.warning("commit failed (the messages will be delivered again): %s", exc)
        if len(done) < len(messages):
            if once:
                break
            time.sleep(backoff_s)
    return stats
