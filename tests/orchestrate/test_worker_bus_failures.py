"""``run_worker`` survives the bus failing: a lost broker, a commit refused after a rebalance."""

from __future__ import annotations

from typing import Any

import pytest

from harmonize.events import SUBMISSIONS, EventBusUnavailable, Message
from harmonize.orchestrate import worker
from harmonize.orchestrate.process import Processed
from harmonize.orchestrate.worker import run_worker
from harmonize.settings import Settings


class FlakyBus:
    """Hands out ``messages`` once; the first poll and the first commit fail."""

    def __init__(self, messages: list[Message]) -> None:
        self.messages = messages
        self.polls = 0
        self.commits: list[list[Message]] = []
        self.failed_commits = 0

    def consume(self, topic: str, *, group: str, timeout_s: float, max_messages: int) -> Any:
        self.polls += 1
        if self.polls == 1:
            raise EventBusUnavailable("the broker went away")
        out, self.messages = self.messages, []
        return out

    def commit(self, group: str, messages: list[Message]) -> None:
        if self.failed_commits == 0:
            self.failed_commits += 1
            raise EventBusUnavailable("CommitFailedError: the group rebalanced")
        self.commits.append(messages)


def test_a_failed_poll_and_a_failed_commit_are_survived(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bytes] = []

    def fake_process(raw: bytes, settings: Settings, bus: Any, **_: Any) -> Processed:
        seen.append(raw)
        return Processed("published", raw.decode())

    monkeypatch.setattr(worker, "process_event", fake_process)
    messages = [Message(SUBMISSIONS, 0, i, f"s{i}", f"s{i}".encode()) for i in range(3)]
    bus = FlakyBus(messages)
    polls = iter(range(10))
    stats = run_worker(
        Settings(workspace=tmp_path),
        bus,
        backoff_s=0,
        poll_s=0,
        should_stop=lambda: next(polls) >= 4,
    )
    assert seen == [b"s0", b"s1", b"s2"]  # processed once the bus answered
    assert stats.transient_failures == 2  # the poll, then the commit
    assert [p.submission_id for p in stats.processed] == ["s0", "s1", "s2"]
    assert bus.commits == []  # the refused commit is not retried: the new owner gets them
