"""process_event on the local event log: idempotency, the DLQ, rejections, the worker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harmonize.drs.registry import Registry
from harmonize.events import DLQ, RESULTS, SUBMISSIONS, parse_envelope, submission_created
from harmonize.intake import submit
from harmonize.orchestrate.process import process_event
from harmonize.orchestrate.worker import run_worker
from harmonize.settings import Settings
from harmonize.state.store import StateStore
from tests.orchestrate.conftest import drain

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def published_files(settings: Settings, sid: str) -> list[Path]:
    """The submission's DRS-registered files (the Delta table files are not DRS objects)."""
    root = settings.published_dir
    tables = root / "tables"
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and sid in p.as_posix() and tables not in p.parents
    )


def test_the_same_event_three_times_gives_one_publication(
    settings: Settings, bus: Any, submissions: Path
) -> None:
    created = submit(submissions / "aire-aps1", settings, bus=bus)
    (message,) = drain(bus, SUBMISSIONS)
    outcomes = [process_event(message.value, settings, bus) for _ in range(3)]
    assert [o.outcome for o in outcomes] == ["published"] * 3
    results = [parse_envelope(m.value) for m in drain(bus, RESULTS)]
    assert len(results) == 3  # re-announced each time; consumers dedupe
    assert {r.data["bundle_id"] for r in results} == {outcomes[0].result.bundle_id}
    assert {r.data["manifest_sha256"] for r in results} == {created.manifest_sha256}
    assert all(r.data["object_count"] == outcomes[0].result.object_count for r in results)
    registry = Registry(settings.registry)
    members = registry.bundle_members(outcomes[0].result.bundle_id)
    assert len(members) == outcomes[0].result.object_count > 0
    files = published_files(settings, "aire-aps1")
    assert registry.count() == len(files) + 1 == len(members) + 1  # + the bundle itself
    history = StateStore(settings.registry).history("aire-aps1")
    commits = [h for h in history if h["status"] == "published" and h["detail"] == "committed"]
    assert len(commits) == 1


def test_a_malformed_event_lands_in_the_dlq_with_a_reason(settings: Settings, bus: Any) -> None:
    processed = process_event(b'{"specversion": "0.3"', settings, bus)
    assert processed.outcome == "dead-lettered"
    (dead,) = drain(bus, DLQ)
    event = json.loads(dead.value)
    assert event["type"] == "org.ga4gh.harmonize.submission.dead_lettered"
    assert event["data"]["reason"]
    assert event["data"]["original"] == '{"specversion": "0.3"'
    assert drain(bus, RESULTS) == []


def test_a_manifest_checksum_mismatch_is_rejected_with_a_report(
    settings: Settings, bus: Any, submissions: Path
) -> None:
    created = submit(submissions / "aire-aps1", settings, bus=bus)
    drain(bus, SUBMISSIONS)
    wrong = submission_created(
        created.submission_id, created.manifest_uri, "0" * 64, source="urn:test"
    )
    processed = process_event(wrong.to_bytes(), settings, bus)
    assert processed.outcome == "rejected"
    assert "sha-256 mismatch" in processed.result.reason
    assert Path(processed.result.report_uri).is_file()
    assert published_files(settings, "aire-aps1") == []
    (result,) = drain(bus, RESULTS)
    assert parse_envelope(result.value).data["status"] == "rejected"


def test_the_worker_processes_then_commits(settings: Settings, bus: Any, submissions: Path) -> None:
    submit(submissions / "aire-aps1", settings, bus=bus)
    bus.publish(SUBMISSIONS, b"garbage", key="x")
    first = run_worker(settings, bus, once=True, poll_s=0.2)
    assert sorted(p.outcome for p in first.processed) == ["dead-lettered", "published"]
    again = run_worker(settings, bus, once=True, poll_s=0.2)
    assert again.processed == []  # committed: nothing is delivered twice to the group
    assert len(drain(bus, DLQ)) == 1
