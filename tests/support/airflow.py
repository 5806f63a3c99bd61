"""A real Airflow 3 (api-server, scheduler, dag-processor, triggerer) for the tests of a module.

Started by ``infra/airflow.sh`` in a temp directory, on free ports, wired to the session's
Kafka broker (``kafka_broker``) and a workspace of its own. The landing scan runs every 15 s
on manifests older than 20 s, and fault injection is on (``faults_dir``) for the crash tests.

Module scope: it is stopped after the last test of the module that uses it
(``tests/e2e/test_event_driven.py``), whatever happened, so that its idle scheduler, its
landing scans and its dag-processor take no CPU from the modules that run after it.

Fixture ``airflow_env``: an :class:`AirflowEnv` (``.settings`` for the tests' own calls,
``.faults_dir``, ``.home``).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "infra" / "airflow.sh"
# small batches, so every submission of the end-to-end tests fans out over mapped tasks
BATCH_SIZE = 25


@dataclass
class AirflowEnv:
    home: Path
    url: str
    settings: Any  # harmonize.settings.Settings shared with the DAGs' tasks
    faults_dir: Path

    def status(self) -> str:
        done = subprocess.run(
            ["bash", str(SCRIPT), "status", str(self.home)], capture_output=True, text=True
        )
        return done.stdout


def start_airflow(home: Path, kafka_bootstrap: str, settings: Any, faults: Path) -> AirflowEnv:
    env = {
        **os.environ,
        "HARMONIZE_WORKSPACE": str(settings.workspace),
        "HARMONIZE_EVENTS_URL": settings.events,
        "HARMONIZE_LANDING_URL": settings.landing,
        "HARMONIZE_ONTOLOGY_CACHE": str(settings.cache_dir),
        "HARMONIZE_ON_CONFLICT": settings.on_conflict,
        "HARMONIZE_SCAN_SCHEDULE": "15",
        "HARMONIZE_SCAN_MIN_AGE": "20",
        "HARMONIZE_FAULTS_DIR": str(faults),
        "HARMONIZE_BATCH_SIZE": str(settings.batch_size),
    }
    done = subprocess.run(
        ["bash", str(SCRIPT), "start", str(home), "--kafka", kafka_bootstrap],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        subprocess.run(["bash", str(SCRIPT), "stop", str(home)], capture_output=True, check=False)
        raise RuntimeError(f"infra/airflow.sh start failed:\n{done.stderr[-4000:]}")
    return AirflowEnv(home, done.stdout.strip().splitlines()[-1], settings, faults)


@pytest.fixture(scope="module")
def airflow_env(
    tmp_path_factory: pytest.TempPathFactory, kafka_broker: Any, ontology_cache: Path
) -> Iterator[AirflowEnv]:
    from harmonize.settings import Settings

    base = tmp_path_factory.mktemp("airflow")
    settings = Settings(
        workspace=base / "workspace",
        ontology_cache=ontology_cache,
        on_conflict="keep-observed",
        events_url=kafka_broker.url,
        landing_url=str(base / "landing"),
        batch_size=BATCH_SIZE,
    )
    settings.workspace.mkdir(parents=True)
    faults = base / "faults"
    faults.mkdir()
    started = start_airflow(base / "home", kafka_broker.bootstrap, settings, faults)
    try:
        yield started
    finally:
        subprocess.run(
            ["bash", str(SCRIPT), "stop", str(started.home)], capture_output=True, check=False
        )
