"""Airflow local settings for Harmonize (on PYTHONPATH via infra/airflow.sh).

In the scheduler only, the pipeline's heavy modules are imported before the LocalExecutor
forks its workers, so every task process starts warm (harmonize.orchestrate.preload).
Set HARMONIZE_PRELOAD=0 to turn it off.
"""

from __future__ import annotations

import logging
import os
import sys

if sys.argv[1:2] == ["scheduler"] and os.environ.get("HARMONIZE_PRELOAD", "1") != "0":
    from harmonize.orchestrate.preload import preload

    logging.getLogger(__name__).info("harmonize: preloaded in %.1f s", preload())
