"""process_event on the local event log: idempotency, the DLQ, rejections, the worker."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from harmonize.drs.registry import Registry
from harmonize.errors import SubmissionError
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
    assert [r.data["version"] for r in results] == [1, 1, 1]
    registry = Registry(settings.registry)
    members = registry.bundle_members(outcomes[0].result.bundle_id)
    assert len(members) == outcomes[0].result.object_count > 0
    files = published_files(settings, "aire-aps1")
    assert registry.count() == len(files) + 1 == len(members) + 1  # + the bundle itself
    history = StateStore(settings.registry).history("aire-aps1")
    commits = [h for h in history if h["status"] == "published" and h["detail"] == "committed"]
    assert len(commits) == 1


def test_a_changed_mapping_under_the_same_manifest_is_a_new_version_through_events(
    settings: Settings, bus: Any, submissions: Path, tmp_path: Path
) -> None:
    """submit() writes the mapping's digest into the landed manifest: a changed mapping is
    another manifest, landed apart, and the worker publishes it as version 2 (the landing
    store and the state store are keyed by the manifest's digest; it answered "already
    published")."""
    source = tmp_path / "clinic"
    shutil.copytree(submissions / "clinic-tabular", source)
    first = submit(source, settings, bus=bus)
    (message,) = drain(bus, SUBMISSIONS)
    assert process_event(message.value, settings, bus).outcome == "published"
    mapping = source / "mapping.yaml"
    mapping.write_text(mapping.read_text().replace("id_prefix: clinic", "id_prefix: clinicb"))
    second = submit(source, settings, bus=bus)
    assert second.manifest_sha256 != first.manifest_sha256
    (message,) = drain(bus, SUBMISSIONS)
    outcome = process_event(message.value, settings, bus)
    assert outcome.outcome == "published"
    assert outcome.result.version == 2
    landed = yaml.safe_load(Path(second.manifest_uri).read_text())
    assert landed["mapping_sha256"] == hashlib.sha256(mapping.read_bytes()).hexdigest()

    # a manifest whose mapping_sha256 disagrees with the mapping is refused, naming both
    manifest = source / "manifest.yaml"
    manifest.write_text(manifest.read_text() + f"mapping_sha256: '{'0' * 64}'\n")
    with pytest.raises(SubmissionError, match="the manifest says 0000") as refused:
        submit(source, settings, bus=bus)
    assert refused.value.column == "mapping_sha256"


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
