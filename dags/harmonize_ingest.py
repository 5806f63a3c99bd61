"""Event-driven ingest: one run per batch of ``harmonize.submissions`` events.

An ``AssetWatcher`` runs the Kafka message-queue trigger in the triggerer; each message
becomes an asset event whose payload is the raw message. ``receive`` checks the events
(malformed ones go to the dead-letter topic) and fetches the landed files; ``ingest``
(mapped, one per submission) runs the same stages as ``harmonize ingest``; ``announce``
emits the result on ``harmonize.results``. Tasks pass paths, never data.

Configuration (read inside tasks): HARMONIZE_WORKSPACE, HARMONIZE_EVENTS_URL,
HARMONIZE_LANDING_URL, HARMONIZE_REGISTRY_URL; the Airflow connection
``harmonize_kafka`` (bootstrap servers, consumer group) for the trigger.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from airflow.providers.common.messaging.triggers.msg_queue import MessageQueueTrigger
from airflow.sdk import Asset, AssetWatcher, dag, task

TOPIC = "harmonize.submissions"
trigger = MessageQueueTrigger(
    scheme="kafka",
    topics=[TOPIC],
    apply_function="harmonize.orchestrate.trigger.message_payload",
    kafka_config_id=os.environ.get("HARMONIZE_KAFKA_CONN_ID", "harmonize_kafka"),
    poll_timeout=1,
    poll_interval=1,
)
submissions = Asset(
    "harmonize_submissions",
    uri=f"kafka://harmonize/{TOPIC}",
    watchers=[AssetWatcher(name="harmonize_submissions_watcher", trigger=trigger)],
)
RETRIES: dict[str, Any] = {
    "retries": 4,
    "retry_delay": timedelta(seconds=2),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=2),
}


@dag(
    dag_id="harmonize_ingest",
    schedule=[submissions],
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=8,
    default_args=RETRIES,
    tags=["harmonize", "ingest", "event-driven"],
    doc_md=__doc__,
)
def harmonize_ingest() -> None:
    @task
    def receive(**context: Any) -> list[dict[str, Any]]:
        from harmonize.orchestrate.tasks import receive_events

        events = context["triggering_asset_events"][submissions]
        return receive_events([event.extra.get("payload") for event in events], os.environ)

    @task(max_active_tis_per_dagrun=2)
    def ingest(received: dict[str, Any]) -> str:
        from harmonize.orchestrate.tasks import ingest_one

        return ingest_one(received, os.environ)

    @task
    def announce(result_file: str) -> dict[str, Any]:
        from harmonize.orchestrate.tasks import announce_one

        return announce_one(result_file, os.environ)

    announce.expand(result_file=ingest.expand(received=receive()))


harmonize_ingest()
