"""The scheduler preloads and warms the pipeline so forked task processes start warm."""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import multiprocessing
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from harmonize.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
LOCAL_SETTINGS = ROOT / "infra" / "airflow"

PROBE = """
import sys
sys.argv = {argv!r}
import airflow_local_settings  # noqa: F401
checks = sys.modules.get("harmonize.quality.expectations")
warmed = checks is not None and checks.batch_definition.cache_info().currsize == 1
print("great_expectations" in sys.modules, "harmonize.pipeline" in sys.modules, warmed)
"""


def _probe(argv: list[str], **env: str) -> str:
    environment = {**os.environ, "PYTHONPATH": str(LOCAL_SETTINGS), **env}
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(argv=argv)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=240,
        check=True,
    )
    # the last line: Airflow, once imported (the scheduler's DAG_MODULES), logs to stdout too
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


@pytest.mark.slow
def test_the_scheduler_preloads_great_expectations_and_the_pipeline_and_warms_up() -> None:
    assert _probe(["airflow", "scheduler"]) == "True True True"


@pytest.mark.slow
def test_a_celery_worker_preloads_and_warms_up_too() -> None:
    """A Celery worker forks its pool, and each pool process forks a process per task
    (BaseExecutor.run_workload): preloaded in the worker, every task starts warm."""
    assert _probe(["airflow", "celery", "worker", "--concurrency", "2"]) == "True True True"


@pytest.mark.slow
def test_invalid_settings_skip_the_warm_up_not_the_scheduler() -> None:
    assert _probe(["airflow", "scheduler"], HARMONIZE_ON_CONFLICT="bogus") == "True True False"


@pytest.mark.slow
def test_the_scheduler_preloads_what_a_task_imports_to_parse_the_ingest_dag() -> None:
    code = (
        "import sys; sys.argv = ['airflow', 'scheduler']\n"
        "import airflow_local_settings as s\n"
        "print(all(m in sys.modules for m in s.DAG_MODULES), len(s.DAG_MODULES))"
    )
    environment = {**os.environ, "PYTHONPATH": str(LOCAL_SETTINGS)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "True 4"
    dag = (ROOT / "dags" / "harmonize_ingest.py").read_text()
    assert "from harmonize.orchestrate.kafka_trigger import" in dag  # what the list mirrors
    assert "@task.short_circuit" in dag


def test_other_airflow_processes_stay_light() -> None:
    for process in ("api-server", "triggerer", "dag-processor"):
        assert _probe(["airflow", process]) == "False False False"
    assert _probe(["airflow", "celery", "flower"]) == "False False False"


def test_preload_can_be_turned_off() -> None:
    assert _probe(["airflow", "scheduler"], HARMONIZE_PRELOAD="0") == "False False False"


# -- warm(): a first ingest's one-time work, done before the fork ---------------------------

SYNTH = ROOT / "bench" / "synth.py"
FORK = multiprocessing.get_context("fork")
SPAWN = multiprocessing.get_context("spawn")
# top-level packages whose modules a task process should find imported by the scheduler
WARMED_PACKAGES = {"harmonize", "alembic", "mako", "openpyxl", "jinja2", "great_expectations"}


def _synth() -> Any:
    """``bench/synth.py``, the synthetic submission writer (bench/ is not a package)."""
    name = "harmonize_bench_synth"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, SYNTH)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # its dataclasses look their module up
        spec.loader.exec_module(module)
    return sys.modules[name]


def _open_files() -> set[str]:
    """This process's open file descriptors and what each points at (Linux)."""
    found = set()
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):  # the listing's own descriptor, closed already
            found.add(f"{fd.name} {os.readlink(fd)}")
    return found


def _in_fork(target: Callable[[], Any]) -> Any:
    """Run ``target`` in a child forked from this process; what it returned."""
    receive, send = FORK.Pipe(duplex=False)

    def child() -> None:
        send.send(target())

    process = FORK.Process(target=child)
    process.start()
    try:
        assert receive.poll(240), "the forked child sent nothing"
        return receive.recv()
    finally:
        process.join(30)
        assert process.exitcode == 0


def _first_ingest(settings: Settings, source: Path) -> dict[str, Any]:
    """In a task process: ingest ``source``; what it had to build or import for that."""
    from harmonize.db.migrate import head_revision
    from harmonize.ontology.index import TermIndex
    from harmonize.pipeline import ingest
    from harmonize.quality.expectations import batch_definition

    before = set(sys.modules)
    gx, head = batch_definition.cache_info(), head_revision.cache_info()
    with mock.patch.object(TermIndex, "load", wraps=TermIndex.load) as index_loads:
        result = ingest(source, settings)
    imported = {m for m in set(sys.modules) - before if m.split(".")[0] in WARMED_PACKAGES}
    return {
        "status": result.status,
        "message": result.message,
        "index_loads": index_loads.call_count,
        "gx_built": batch_definition.cache_info().misses - gx.misses,
        "gx_used": batch_definition.cache_info().hits - gx.hits,
        "head_read": head_revision.cache_info().misses - head.misses,
        "head_used": head_revision.cache_info().hits - head.hits,
        "imported": sorted(imported),
    }


def _forget_warm_state() -> None:
    """This process as a scheduler that only ran preload()."""
    from harmonize.db.migrate import head_revision
    from harmonize.ontology import Ontologies
    from harmonize.quality.expectations import batch_definition

    batch_definition.cache_clear()
    head_revision.cache_clear()
    Ontologies.forget()


def _as_scheduler(target: Callable[..., None], *args: Any) -> None:
    """Run ``target`` in a fresh interpreter standing for the scheduler, which forks tasks.

    Not in this (pytest) process: an earlier test here may have started deltalake's
    runtime, which a forked child cannot use, and a scheduler never publishes itself."""
    receive, send = SPAWN.Pipe(duplex=False)
    process = SPAWN.Process(target=_report_to, args=(send, target, *args))
    process.start()
    try:
        assert receive.poll(600), "the scheduler process sent nothing"
        failure = receive.recv()
    finally:
        process.join(30)
    assert failure is None, failure
    assert process.exitcode == 0


def _report_to(send: Any, target: Callable[..., None], *args: Any) -> None:
    import traceback

    try:
        target(*args)
    except BaseException:  # the test's assertion, carried back to pytest
        send.send(traceback.format_exc())
    else:
        send.send(None)


@pytest.mark.slow
def test_a_task_forked_after_warm_rebuilds_nothing_the_scheduler_warmed(
    settings: Settings, tmp_path: Path
) -> None:
    """A forked child's first ingest reuses the parent's GX context, head revision and
    ontology indexes and imports none of the pipeline's modules; a child forked before
    warm() builds them itself (so the counters do count)."""
    _as_scheduler(_forks_warm_tasks, settings, tmp_path)


def _forks_warm_tasks(settings: Settings, tmp_path: Path) -> None:
    from harmonize.db.migrate import head_revision
    from harmonize.orchestrate.preload import preload, warm
    from harmonize.quality.expectations import batch_definition

    synth = _synth()
    sources = {}
    for name in ("setup", "cold", "warm"):
        synth.write_submission(tmp_path / name, 20, submission_id=name, seed=len(name))
        sources[name] = tmp_path / name
    preload()
    # a deployment's workspace: its database migrated, the indexes compiled (another process)
    setup = _in_fork(lambda: _first_ingest(settings, sources["setup"]))
    assert setup["status"] == "published", setup["message"]
    _forget_warm_state()

    cold = _in_fork(lambda: _first_ingest(settings, sources["cold"]))
    assert cold["status"] == "published", cold["message"]
    assert cold["index_loads"] >= 1
    assert cold["gx_built"] == 1
    assert cold["head_read"] == 1

    threads, files = set(threading.enumerate()), _open_files()
    warm(settings)
    assert set(threading.enumerate()) == threads  # nothing left running across the fork
    assert _open_files() == files  # no database connection, socket or file left open
    assert batch_definition.cache_info().currsize == 1
    assert head_revision.cache_info().currsize == 1

    warmed = _in_fork(lambda: _first_ingest(settings, sources["warm"]))
    assert warmed["status"] == "published", warmed["message"]
    assert warmed["index_loads"] == 0
    assert (warmed["gx_built"], warmed["head_read"]) == (0, 0)
    assert warmed["gx_used"] > 0 and warmed["head_used"] > 0
    assert warmed["imported"] == [], "add these to preload.PIPELINE_MODULES"


def test_warm_does_not_touch_the_workspace_or_compile_indexes(tmp_path: Path) -> None:
    from harmonize.orchestrate.preload import warm

    settings = Settings(workspace=tmp_path / "ws", ontology_cache=tmp_path / "cache")
    warm(settings)
    assert not settings.workspace.exists()
    assert not settings.cache_dir.exists() or not any(settings.cache_dir.iterdir())


def test_warm_is_best_effort(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A failing step (no ontology manifest here) is logged; the others still run."""
    from harmonize.orchestrate.preload import warm
    from harmonize.quality.expectations import batch_definition

    batch_definition.cache_clear()
    settings = Settings(workspace=tmp_path / "ws", ontologies_dir=tmp_path / "missing")
    with caplog.at_level(logging.WARNING, logger="harmonize.orchestrate.preload"):
        warm(settings)
    assert any("ontologies failed" in r.getMessage() for r in caplog.records)
    assert batch_definition.cache_info().currsize == 1
