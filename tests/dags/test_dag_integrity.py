"""Every DAG imports cleanly, with the expected tasks, retries, schedule and tags."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DAGS = ROOT / "dags"
EXPECTED: dict[str, dict[str, Any]] = {
    "harmonize_ingest": {
        "tasks": {"receive", "harmonize", "publish"},
        "tags": {"harmonize", "ingest", "event-driven"},
        "min_retries": 3,
    },
    "harmonize_landing_scan": {
        "tasks": {"scan"},
        "tags": {"harmonize", "landing", "scheduled"},
        "min_retries": 1,
    },
    "harmonize_ontology_refresh": {
        "tasks": {"refresh"},
        "tags": {"harmonize", "ontology", "scheduled"},
        "min_retries": 1,
    },
}
HEAVY = ["pyarrow", "pandas", "great_expectations", "pronto", "harmonize.pipeline", "polars"]


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory: pytest.TempPathFactory) -> Any:
    home = tmp_path_factory.mktemp("airflow-home")
    os.environ.setdefault("AIRFLOW_HOME", str(home))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{home / 'airflow.db'}")
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS), include_examples=False)


def test_every_dag_file_imports_without_errors(dagbag: Any) -> None:
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == set(EXPECTED)


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_tasks_tags_and_retries(dagbag: Any, dag_id: str) -> None:
    dag = dagbag.dags[dag_id]
    want = EXPECTED[dag_id]
    assert set(dag.task_ids) == want["tasks"]
    assert want["tags"] <= set(dag.tags)
    assert dag.catchup is False
    for task in dag.tasks:
        assert task.retries >= want["min_retries"], (task.task_id, task.retries)
        assert task.retry_delay > timedelta(0)


def test_ingest_is_event_driven_by_harmonizes_kafka_event_trigger(dagbag: Any) -> None:
    dag = dagbag.dags["harmonize_ingest"]
    (asset,) = dag.timetable.asset_condition.objects
    (watcher,) = asset.watchers
    kind, kwargs = watcher.trigger.serialize()
    assert kind == "harmonize.orchestrate.kafka_trigger.SubmissionEventTrigger"
    assert kwargs["topic"] == "harmonize.submissions"
    assert kwargs["commit_delay_s"] > 0


def test_ingest_tasks_are_the_pipeline_stages_with_batches_fanned_out(dagbag: Any) -> None:
    dag = dagbag.dags["harmonize_ingest"]
    for task_id in ("receive", "harmonize", "publish"):
        task = dag.get_task(task_id)
        assert task.retry_exponential_backoff >= 2.0
        assert task.max_retry_delay is not None
    # one mapped task per group of batches; receive skips the rest when nothing came
    assert type(dag.get_task("harmonize")).__name__.endswith("MappedOperator")
    assert not type(dag.get_task("publish")).__name__.endswith("MappedOperator")
    assert type(dag.get_task("receive")).__name__ == "_ShortCircuitDecoratedOperator"
    assert dag.get_task("harmonize").upstream_task_ids == {"receive"}
    assert dag.get_task("publish").upstream_task_ids == {"receive", "harmonize"}
    assert dag.get_task("publish").downstream_task_ids == set()  # it announces the results


def test_scan_schedule_is_configurable() -> None:
    code = (
        "import runpy, json; ns = runpy.run_path('dags/harmonize_landing_scan.py');"
        "print(ns['SCHEDULE'])"
    )
    env = {**os.environ, "HARMONIZE_SCAN_SCHEDULE": "20"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "0:00:20"


@pytest.mark.parametrize("dag_file", sorted(p.name for p in DAGS.glob("*.py")))
def test_dag_file_stays_light_at_import(dag_file: str) -> None:
    """The scheduler parses DAG files over and over: no data or ontology stack at top level."""
    code = (
        "import runpy, sys, json;"
        f"runpy.run_path({str(DAGS / dag_file)!r});"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_receive_tasks_at_once_are_bounded_by_the_cpus(dagbag: Any) -> None:
    """A burst of small submissions is CPU-bound: one ``receive`` task per core, over all runs."""
    task = dagbag.dags["harmonize_ingest"].get_task("receive")
    want = int(os.environ.get("HARMONIZE_RECEIVE_SLOTS") or os.cpu_count() or 2)
    assert task.max_active_tis_per_dag == want
    assert task.max_active_tis_per_dagrun is None


def test_receive_slots_are_configurable() -> None:
    code = (
        "import runpy; ns = runpy.run_path('dags/harmonize_ingest.py');print(ns['RECEIVE_SLOTS'])"
    )
    env = {**os.environ, "HARMONIZE_RECEIVE_SLOTS": "5"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "5"


@pytest.mark.parametrize("bad", ["0", "two", "-1"])
def test_a_bad_receive_slots_value_names_the_variable(bad: str) -> None:
    code = "import runpy; runpy.run_path('dags/harmonize_ingest.py')"
    env = {**os.environ, "HARMONIZE_RECEIVE_SLOTS": bad}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode != 0
    assert f"HARMONIZE_RECEIVE_SLOTS={bad!r}: expected a whole number" in out.stderr
