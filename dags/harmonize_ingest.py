"""Event-driven ingest: one run per batch of ``harmonize.submissions`` events.

An ``AssetWatcher`` runs Harmonize's Kafka event trigger in the triggerer; each message
becomes an asset event whose payload is the raw message. The tasks are the pipeline's
stages and hand each other paths under ``WORKSPACE/runs/``, never data:

- ``receive``: check the events (malformed ones go to the dead-letter topic), fetch the
  landed files;
- ``read``: admit each submission and write its raw batches (Arrow IPC);
- ``harmonize`` (mapped over groups of batches: a large submission fans out, small ones
  share a task): check-raw, harmonize and check each batch;
- ``publish``: for each submission, merge the batches, check across them, write the
  report, reject or commit atomically, and emit the result on ``harmonize.results``.

Configuration (read inside tasks): HARMONIZE_WORKSPACE, HARMONIZE_EVENTS_URL,
HARMONIZE_LANDING_URL, HARMONIZE_REGISTRY_URL, HARMONIZE_FANOUT; the trigger reads the
broker from HARMONIZE_EVENTS_URL (kafka://host:port) when the DAG is parsed.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import Asset, AssetWatcher, dag, task

from harmonize.orchestrate.kafka_trigger import SubmissionEventTrigger
from harmonize.orchestrate.trigger import kafka_servers

TOPIC = "harmonize.submissions"
trigger = SubmissionEventTrigger(
    bootstrap_servers=kafka_servers(os.environ.get("HARMONIZE_EVENTS_URL")),
    topic=TOPIC,
    group_id=os.environ.get("HARMONIZE_TRIGGER_GROUP", "harmonize-airflow"),
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

    @task
    def read(received: list[dict[str, Any]]) -> list[list[str]]:
        from harmonize.orchestrate.tasks import read_received

        return read_received(received, os.environ)

    @task
    def harmonize(batches: list[str]) -> list[str]:
        from harmonize.orchestrate.tasks import harmonize_unit

        return harmonize_unit(batches, os.environ)

    # runs when there was nothing to harmonize (every outcome decided at read)
    @task(trigger_rule="none_failed")
    def publish(received: list[dict[str, Any]]) -> list[dict[str, Any]]:
        from harmonize.orchestrate.tasks import publish_received

        return publish_received(received, os.environ)

    received = receive()
    units = read(received)
    published = publish(received)  # reads what `read` saved in each run directory
    harmonize.expand(batches=units) >> published
    units >> published


harmonize_ingest()
