"""End to end through a real Kafka broker and a real Airflow scheduler + triggerer.

``harmonize submit`` -> submission event -> the triggerer's AssetWatcher -> an ingest DAG
run -> published -> result event, with the DRS objects resolvable; duplicates, a
malformed event, a broker restart mid-flight, a task killed during publish, and the
scheduled landing scan.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from harmonize.drs.registry import Registry
from harmonize.events import DLQ, RESULTS, SUBMISSIONS, open_bus, submission_created
from harmonize.intake import LocalLanding, submit
from harmonize.orchestrate.faults import CRASH_BEFORE_COMMIT
from harmonize.state.store import StateStore
from tests.e2e.helpers import for_submission, unique_submission, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]


def published_files(settings: Any, sid: str) -> list[Path]:
    """The submission's DRS-registered files (the Delta table files are not DRS objects)."""
    tables = settings.published_dir / "tables"
    return sorted(
        p
        for p in settings.published_dir.rglob("*")
        if p.is_file() and sid in p.as_posix() and tables not in p.parents
    )


def assert_published_once(settings: Any, sid: str, bundle_id: str) -> None:
    """One complete publication: every file registered once, nothing staged, no duplicates."""
    registry = Registry(settings.registry)
    rows = registry.objects_for_submission(sid)
    files = [r for r in rows if not r.is_bundle]
    bundles = [r for r in rows if r.is_bundle]
    assert [b.id for b in bundles] == [bundle_id]
    on_disk = {p.relative_to(settings.workspace).as_posix() for p in published_files(settings, sid)}
    assert {r.path for r in files} == on_disk
    assert len(registry.bundle_members(bundle_id)) == len(files) > 0
    staged = settings.staging_dir / sid
    assert not staged.exists() or not any(p.suffix == ".parquet" for p in staged.rglob("*"))
    history = StateStore(settings.registry).history(sid)
    commits = [h for h in history if h["status"] == "published" and h["detail"] == "committed"]
    assert len(commits) == 1, [(h["status"], h["detail"]) for h in history]  # one commit


def test_submit_to_published_result_with_resolvable_drs_objects(
    airflow_env: Any, submissions: Path, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from harmonize.drs.app import create_app
    from harmonize.drs.config import DrsSettings

    settings = airflow_env.settings
    source, sid = unique_submission(submissions / "aire-aps1", tmp_path, "e2e-submit")
    created = submit(source, settings)
    (result,) = wait_for(settings.events, RESULTS, for_submission(sid))
    assert result.type == "org.ga4gh.harmonize.submission.published"
    assert result.data["manifest_sha256"] == created.manifest_sha256
    assert_published_once(settings, sid, result.data["bundle_id"])
    app = create_app(DrsSettings(workspace=settings.workspace, registry_url=settings.registry))
    with TestClient(app) as client:
        bundle = client.get(f"/ga4gh/drs/v1/objects/{result.data['bundle_id']}").json()
        assert len(bundle["contents"]) == result.data["object_count"]
        for member in bundle["contents"][:5]:
            obj = client.get(f"/ga4gh/drs/v1/objects/{member['id']}").json()
            access = client.get(f"/ga4gh/drs/v1/objects/{member['id']}/access/https").json()
            body = client.get(access["url"]).content
            assert hashlib.sha256(body).hexdigest() == obj["checksums"][0]["checksum"]


def test_a_submission_of_several_batches_fans_out_over_mapped_tasks(
    airflow_env: Any, submissions: Path, tmp_path: Path
) -> None:
    import sqlite3

    settings = airflow_env.settings
    source, sid = unique_submission(submissions / "aire-aps1", tmp_path, "e2e-fanout")
    submit(source, settings)
    (result,) = wait_for(settings.events, RESULTS, for_submission(sid))
    assert result.type == "org.ga4gh.harmonize.submission.published"
    assert_published_once(settings, sid, result.data["bundle_id"])
    (run_dir,) = (p for p in (settings.workspace / "runs").iterdir() if p.name.startswith(sid))
    planned = json.loads((run_dir / "planned.json").read_text())
    assert len(planned["batches"]) >= 2  # AIRE's 70-odd rows in batches of 25
    assert not (run_dir / "batches").exists()  # the hand-off files go once published
    db = sqlite3.connect(f"file:{airflow_env.home / 'airflow.db'}?mode=ro", uri=True)
    mapped = db.execute(
        "SELECT run_id, COUNT(*) FROM task_instance WHERE dag_id = 'harmonize_ingest' "
        "AND task_id = 'harmonize' AND state = 'success' GROUP BY run_id"
    ).fetchall()
    assert max(n for _, n in mapped) >= 2  # the batches ran as separate mapped tasks


def one_batch_submission(into: Path, prefix: str) -> tuple[Path, str]:
    """A synthetic submission of 10 individuals: one batch (the tests' batches are 25 rows)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    from synth import write_submission

    sid = f"{prefix}-{uuid.uuid4().hex[:8]}"
    write_submission(into / sid, 10, submission_id=sid)
    return into / sid, sid


def task_states(home: Path, sid: str) -> dict[str, set[str]]:
    """The states of each task of the ingest runs that took ``sid``'s events."""
    db = sqlite3.connect(f"file:{home / 'airflow.db'}?mode=ro", uri=True)
    rows = db.execute(
        "SELECT ti.task_id, ti.state FROM task_instance ti JOIN dag_run r ON r.run_id = ti.run_id "
        "AND r.dag_id = ti.dag_id JOIN dagrun_asset_event d ON d.dag_run_id = r.id "
        "JOIN asset_event e ON e.id = d.event_id WHERE ti.dag_id = 'harmonize_ingest' "
        "AND e.extra LIKE ?",
        (f'%"key": "{sid}"%',),
    ).fetchall()
    states: dict[str, set[str]] = {}
    for task, state in rows:
        states.setdefault(task, set()).add(state)
    return states


def test_a_one_batch_submission_is_published_by_the_receive_task_alone(
    airflow_env: Any, tmp_path: Path
) -> None:
    settings = airflow_env.settings
    source, sid = one_batch_submission(tmp_path, "e2e-one")
    submit(source, settings)
    (result,) = wait_for(settings.events, RESULTS, for_submission(sid))
    assert result.data["status"] == "published"
    assert_published_once(settings, sid, result.data["bundle_id"])
    deadline = time.monotonic() + 120  # the result goes out before the task ends
    while (states := task_states(airflow_env.home, sid)).get("receive") != {"success"}:
        assert time.monotonic() < deadline, states
        time.sleep(1)
    assert states["harmonize"] == states["publish"] == {"skipped"}  # nothing left to fan out


def receive_intervals(home: Path) -> list[tuple[str, str]]:
    """(start, end) of every finished ``receive`` task instance of the ingest DAG."""
    db = sqlite3.connect(f"file:{home / 'airflow.db'}?mode=ro", uri=True)
    return db.execute(
        "SELECT start_date, end_date FROM task_instance WHERE dag_id = 'harmonize_ingest' "
        "AND task_id = 'receive' AND start_date IS NOT NULL AND end_date IS NOT NULL"
    ).fetchall()


def test_a_burst_of_small_ones_runs_at_most_one_receive_task_per_slot(
    airflow_env: Any, tmp_path: Path
) -> None:
    """Six one-batch submissions back to back: all published once, and never more ``receive``
    tasks at a time than ``HARMONIZE_RECEIVE_SLOTS`` (default the CPUs), whatever runs the
    scheduler made of the events."""
    import os

    settings = airflow_env.settings
    burst = [one_batch_submission(tmp_path, f"e2e-burst{i}") for i in range(6)]
    for source, _ in burst:
        submit(source, settings)
    for _, sid in burst:
        (result,) = wait_for(settings.events, RESULTS, for_submission(sid), timeout_s=300)
        assert result.data["status"] == "published"
        assert_published_once(settings, sid, result.data["bundle_id"])
    slots = int(os.environ.get("HARMONIZE_RECEIVE_SLOTS") or os.cpu_count() or 2)
    deadline = time.monotonic() + 60  # the last results go out before their tasks end
    while any(task_states(airflow_env.home, sid).get("receive") != {"success"} for _, sid in burst):
        assert time.monotonic() < deadline
        time.sleep(1)
    intervals = receive_intervals(airflow_env.home)
    at_once = max(sum(1 for s, e in intervals if s <= start < e) for start, _ in intervals)
    assert 1 <= at_once <= slots, (at_once, slots)


def test_a_receive_task_killed_while_publishing_a_small_one_is_retried_to_one_publication(
    airflow_env: Any, tmp_path: Path
) -> None:
    settings = airflow_env.settings
    source, sid = one_batch_submission(tmp_path, "e2e-crash-one")
    marker = airflow_env.faults_dir / f"{CRASH_BEFORE_COMMIT}{sid}"
    marker.touch()
    submit(source, settings)
    (result,) = wait_for(settings.events, RESULTS, for_submission(sid), timeout_s=300)
    assert not marker.exists()  # the receive task did crash once
    assert result.data["status"] == "published"
    assert_published_once(settings, sid, result.data["bundle_id"])


def test_the_same_event_three_times_gives_one_publication(
    airflow_env: Any, submissions: Path, tmp_path: Path
) -> None:
    settings = airflow_env.settings
    source, sid = unique_submission(submissions / "aire-aps1", tmp_path, "e2e-thrice")
    created = submit(source, settings)
    event = submission_created(
        sid, created.manifest_uri, created.manifest_sha256, source="urn:test:redelivery"
    )
    bus = open_bus(settings.events)
    try:
        for _ in range(2):  # the original plus two redeliveries of one event
            bus.publish(SUBMISSIONS, event.to_bytes(), key=sid)
    finally:
        bus.close()
    results = wait_for(settings.events, RESULTS, for_submission(sid), count=3, timeout_s=300)
    assert {r.data["status"] for r in results} == {"published"}
    assert len({r.data["bundle_id"] for r in results}) == 1
    assert_published_once(settings, sid, results[0].data["bundle_id"])


def test_a_malformed_event_lands_in_the_dlq_with_a_reason(airflow_env: Any) -> None:
    settings = airflow_env.settings
    marker = f"not-an-event-{time.time_ns()}"
    bus = open_bus(settings.events)
    try:
        bus.publish(SUBMISSIONS, json.dumps({"hello": marker}).encode(), key=marker)
    finally:
        bus.close()
    (dead,) = wait_for(settings.events, DLQ, lambda e: marker in str(e.data.get("original")))
    assert dead.data["reason"]
    assert dead.data["topic"] == SUBMISSIONS


def test_broker_restarted_while_in_flight_publishes_once(
    airflow_env: Any, kafka_broker: Any, submissions: Path, tmp_path: Path
) -> None:
    settings = airflow_env.settings
    source, sid = unique_submission(submissions / "aire-aps1", tmp_path, "e2e-restart")
    submit(source, settings)
    kafka_broker.restart()
    (result,) = wait_for(settings.events, RESULTS, for_submission(sid), timeout_s=300)
    assert result.data["status"] == "published"
    assert_published_once(settings, sid, result.data["bundle_id"])


def test_a_task_killed_during_publish_is_retried_to_a_complete_publication(
    airflow_env: Any, submissions: Path, tmp_path: Path
) -> None:
    settings = airflow_env.settings
    source, sid = unique_submission(submissions / "aire-aps1", tmp_path, "e2e-crash")
    marker = airflow_env.faults_dir / f"{CRASH_BEFORE_COMMIT}{sid}"
    marker.touch()
    submit(source, settings)
    (result,) = wait_for(settings.events, RESULTS, for_submission(sid), timeout_s=300)
    assert not marker.exists()  # the task did crash once
    assert result.data["status"] == "published"
    assert_published_once(settings, sid, result.data["bundle_id"])


def test_a_scheduled_scan_picks_up_a_manifest_dropped_without_an_event(
    airflow_env: Any, submissions: Path, tmp_path: Path
) -> None:
    settings = airflow_env.settings
    source, sid = unique_submission(submissions / "aire-aps1", tmp_path, "e2e-scan")
    manifest = (source / "manifest.yaml").read_bytes()
    sha = hashlib.sha256(manifest).hexdigest()
    files = [(p.name, p) for p in source.iterdir() if p.name != "manifest.yaml"]
    LocalLanding(Path(settings.landing)).land(sid, sha, manifest, files)
    (result,) = wait_for(settings.events, RESULTS, for_submission(sid), timeout_s=300)
    assert result.data["status"] == "published"
    assert result.data["manifest_sha256"] == sha
    assert_published_once(settings, sid, result.data["bundle_id"])
