"""Scheduled landing scan: manifests in the landing zone that were never ingested.

Emits their ``submission.created`` events, so a lost event delays a submission but never
drops it. Schedule: HARMONIZE_SCAN_SCHEDULE (a cron expression or a number of seconds;
default every 15 minutes); manifests younger than HARMONIZE_SCAN_MIN_AGE seconds
(default 60) are left to their own events; versions left received or processing for
HARMONIZE_SCAN_STALE seconds (default 300) are announced again.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import dag, task

_schedule = os.environ.get("HARMONIZE_SCAN_SCHEDULE", "*/15 * * * *")
SCHEDULE: str | timedelta = timedelta(seconds=int(_schedule)) if _schedule.isdigit() else _schedule


@dag(
    dag_id="harmonize_landing_scan",
    schedule=SCHEDULE,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={
        "retries": 2,
        "retry_delay": timedelta(seconds=10),
        "retry_exponential_backoff": 2.0,
    },
    tags=["harmonize", "landing", "scheduled"],
    doc_md=__doc__,
)
def harmonize_landing_scan() -> None:
    @task
    def scan() -> list[dict[str, Any]]:
        from harmonize.orchestrate.tasks import scan_landing_zone

        return scan_landing_zone(os.environ)

    scan()


harmonize_landing_scan()
