"""Airflow local settings for Harmonize (on PYTHONPATH via infra/airflow.sh).

In the scheduler and in a Celery worker only, the pipeline's heavy modules are imported and
its one-time work done (ontology indexes loaded, the Great Expectations context built, ...)
before the LocalExecutor (or the Celery worker's pool) forks the processes that run tasks,
so every task process starts warm (harmonize.orchestrate.preload). So are the modules a task process imports to parse the
ingest DAG file (DAG_MODULES: the standard provider's decorators, the event trigger), which
each task did afresh. The warm-up reads the same HARMONIZE_* variables as the tasks and
never raises. Set HARMONIZE_PRELOAD=0 to turn both off.
"""

from __future__ import annotations

import logging
import os
import sys

# what a task process imports when it parses dags/harmonize_ingest.py, before its task runs
DAG_MODULES = (
    "airflow.providers.standard.decorators.python",
    "airflow.providers.standard.decorators.short_circuit",
    "airflow.providers.standard.operators.python",
    "harmonize.orchestrate.kafka_trigger",
)

# the processes that fork task processes: the scheduler (LocalExecutor) and a Celery worker
_FORKS_TASKS = sys.argv[1:2] == ["scheduler"] or sys.argv[1:3] == ["celery", "worker"]

if _FORKS_TASKS and os.environ.get("HARMONIZE_PRELOAD", "1") != "0":
    from harmonize.orchestrate.preload import preload, warm

    _log = logging.getLogger(__name__)
    _log.info("harmonize: preloaded in %.1f s", preload())
    try:
        preload(DAG_MODULES)
    except ImportError:  # a task imports them itself
        _log.warning("harmonize: the ingest DAG's modules were not preloaded", exc_info=True)
    try:
        from harmonize.orchestrate.config import settings_from_env

        _settings = settings_from_env(os.environ)
    except Exception:  # a bad HARMONIZE_* value fails the tasks, not the scheduler
        _log.warning("harmonize: no warm-up, the settings are invalid", exc_info=True)
    else:
        _log.info("harmonize: warmed up in %.1f s", warm(_settings))
