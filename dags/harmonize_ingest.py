"""Event-driven ingest: one run per batch of ``harmonize.submissions`` events.

An ``AssetWatcher`` runs Harmonize's Kafka event trigger in the triggerer; each message
becomes an asset event whose payload is the raw message. The tasks are the pipeline's
stages and hand each other paths under ``WORKSPACE/runs/``, never data:

- ``receive`` (the receive and read stages): check the events (malformed ones go to the
  dead-letter topic), fetch the landed files, admit each submission and write its raw
  batches (Arrow IPC);
- ``harmonize`` (mapped over groups of batches: a large submission fans out, small ones
  share a task): check-raw, harmonize and check each batch;
- ``publish``: for each submission, merge the batches, check across them, write the
  report, reject or commit atomically, and emit the result on ``harmonize.results``.

Configuration (read inside tasks): HARMONIZE_WORKSPACE, HARMONIZE_EVENTS_URL,
HARMONIZE_LANDING_URL, HARMONIZE_REGISTRY_URL, HARMONIZE_FANOUT, HARMONIZE_BATCH_SIZE; read
when the DAG is parsed: the trigger's broker from HARMONIZE_EVENTS_URL (kafka://host:port) and
HARMONIZE_RECEIVE_SLOTS (``receive`` tasks at once; default the CPUs).
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
# At most this many `receive` tasks run at once, over all runs (HARMONIZE_RECEIVE_SLOTS, by
# default the CPUs of the host that parses this file). A burst of small submissions is
# CPU-bound: with one task per core, each run's submissions finish one after another at full
# speed instead of every run crawling at once; the runs beyond wait, already created.
_slots = os.environ.get("HARMONIZE_RECEIVE_SLOTS") or str(os.cpu_count() or 2)
if not _slots.isdigit() or int(_slots) < 1:
    raise ValueError(
        f"HARMONIZE_RECEIVE_SLOTS={_slots!r}: expected a whole number of receive tasks to run "
        "at once, at least 1 (unset: one per CPU)"
    )
RECEIVE_SLOTS = int(_slots)


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
    # nothing received (only the trigger's flush events, or only malformed ones): skip the rest
    @task.short_circuit(max_active_tis_per_dag=RECEIVE_SLOTS)
    def receive(**context: Any) -> list[dict[str, Any]]:
        from harmonize.orchestrate.tasks import receive_and_read

        events = context["triggering_asset_events"][submissions]
        return receive_and_read([event.extra.get("payload") for event in events], os.environ)

    @task
    def harmonize(unit: dict[str, Any]) -> list[str]:
        from harmonize.orchestrate.tasks import harmonize_unit

        return harmonize_unit(unit, os.environ)

    @task
    def publish(units: list[dict[str, Any]]) -> list[dict[str, Any]]:
        from harmonize.orchestrate.tasks import publish_units

        return publish_units(list(units), os.environ)

    units = receive()
    harmonize.expand(unit=units) >> publish(units)


harmonize_ingest()
