"""Airflow's metadata on PostgreSQL: ``infra/airflow.sh start DIR --db URL`` runs a DAG."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "infra" / "airflow.sh"
DAG = "harmonize_ontology_refresh"


def _airflow(home: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _last_run_state(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                text("SELECT state FROM dag_run WHERE dag_id = :dag ORDER BY id DESC LIMIT 1"),
                {"dag": DAG},
            ).scalar()
    finally:
        engine.dispose()


@pytest.mark.integration
@pytest.mark.slow
def test_airflow_on_postgresql_runs_a_dag(fresh_postgres_url: str, tmp_path: Path) -> None:
    home = tmp_path / "airflow"
    env = {**os.environ, "HARMONIZE_WORKSPACE": str(tmp_path / "workspace")}
    try:
        started = _airflow(home, "start", str(home), "--db", fresh_postgres_url, env=env)
        assert started.returncode == 0, started.stderr[-3000:]
        trigger = subprocess.run(
            ["bash", "-c", f'source <(bash "{SCRIPT}" env "{home}") && airflow dags trigger {DAG}'],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert trigger.returncode == 0, trigger.stderr[-3000:]
        deadline = time.monotonic() + 240
        state = _last_run_state(fresh_postgres_url)
        while state not in ("success", "failed") and time.monotonic() < deadline:
            time.sleep(2)
            state = _last_run_state(fresh_postgres_url)
        assert state == "success"  # the run lives in PostgreSQL, and it succeeded
    finally:
        _airflow(home, "stop", str(home), env=env)
