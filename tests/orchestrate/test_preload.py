"""The scheduler preloads the pipeline's heavy modules so forked task processes start warm."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCAL_SETTINGS = ROOT / "infra" / "airflow"

PROBE = """
import sys
sys.argv = {argv!r}
import airflow_local_settings  # noqa: F401
print("great_expectations" in sys.modules, "harmonize.pipeline" in sys.modules)
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
    return done.stdout.strip()


@pytest.mark.slow
def test_the_scheduler_preloads_great_expectations_and_the_pipeline() -> None:
    assert _probe(["airflow", "scheduler"]) == "True True"


def test_other_airflow_processes_stay_light() -> None:
    for process in ("api-server", "triggerer", "dag-processor"):
        assert _probe(["airflow", process]) == "False False"


def test_preload_can_be_turned_off() -> None:
    assert _probe(["airflow", "scheduler"], HARMONIZE_PRELOAD="0") == "False False"
