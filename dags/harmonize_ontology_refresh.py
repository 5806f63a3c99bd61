"""Weekly ontology refresh: diff the pinned releases against newly placed ones.

Candidates are OBO files in HARMONIZE_ONTOLOGY_INCOMING (default
WORKSPACE/ontologies-incoming), named after their prefix. The task writes one report per
changed ontology under WORKSPACE/reports/ontology-refresh/ listing the affected
publications; re-pinning stays a curator's decision.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import dag, task


@dag(
    dag_id="harmonize_ontology_refresh",
    schedule="@weekly",
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=5)},
    tags=["harmonize", "ontology", "scheduled"],
    doc_md=__doc__,
)
def harmonize_ontology_refresh() -> None:
    @task
    def refresh() -> list[dict[str, Any]]:
        from harmonize.orchestrate.tasks import refresh_ontologies_env

        return refresh_ontologies_env(os.environ)

    refresh()


harmonize_ontology_refresh()
