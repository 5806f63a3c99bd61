"""Import the pipeline's heavy modules once, in a process that later forks task processes.

Airflow's LocalExecutor forks its workers from the scheduler, and each worker forks a
process per task. Importing Great Expectations alone takes 6-15 s on a 2-core machine, so a
task that imports it afresh spends most of a small submission's time there. Imported once in
the scheduler, every forked task process starts with it (copy-on-write).
``infra/airflow/airflow_local_settings.py`` calls :func:`preload` in the scheduler only.
"""

from __future__ import annotations

import importlib
import time

HEAVY_MODULES = (
    "great_expectations",
    "pyarrow.dataset",
    "pyarrow.parquet",
    "pandas",
    "harmonize.pipeline",
    "harmonize.quality.expectations",
    "harmonize.orchestrate.stages",
)


def preload(modules: tuple[str, ...] = HEAVY_MODULES) -> float:
    """Import ``modules``; returns the seconds it took."""
    start = time.perf_counter()
    for name in modules:
        importlib.import_module(name)
    return time.perf_counter() - start
