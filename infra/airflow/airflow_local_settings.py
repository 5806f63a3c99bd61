"""Airflow local settings for Harmonize (on PYTHONPATH via infra/airflow.sh).

In the scheduler only, the pipeline's heavy modules are imported and its one-time work
done (ontology indexes loaded, the Great Expectations context built, ...) before the
LocalExecutor forks its workers, so every task process starts warm
(harmonize.orchestrate.preload). The warm-up reads the same HARMONIZE_* variables as the
tasks and never raises. Set HARMONIZE_PRELOAD=0 to turn both off.
"""

from __future__ import annotations

import logging
import os
import sys

if sys.argv[1:2] == ["scheduler"] and os.environ.get("HARMONIZE_PRELOAD", "1") != "0":
    from harmonize.orchestrate.preload import preload, warm

    _log = logging.getLogger(__name__)
    _log.info("harmonize: preloaded in %.1f s", preload())
    try:
        from harmonize.orchestrate.config import settings_from_env

        _settings = settings_from_env(os.environ)
    except Exception:  # a bad HARMONIZE_* value fails the tasks, not the scheduler
        _log.warning("harmonize: no warm-up, the settings are invalid", exc_info=True)
    else:
        _log.info("harmonize: warmed up in %.1f s", warm(_settings))
