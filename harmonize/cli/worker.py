"""``harmonize worker``: the Airflow-free driver of event-driven ingestion."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated, Any

import typer

from harmonize.cli.options import (
    Landing,
    LimitOptions,
    LowConfidence,
    Obsolete,
    OnConflict,
    RegistryUrl,
    S3Endpoint,
    Unmapped,
    Warehouse,
    limits,
    policies,
    settings_for,
)


def worker(
    events: Annotated[
        str | None,
        typer.Option(
            envvar="HARMONIZE_EVENTS_URL",
            help="Event bus: kafka://host:port[,host:port] or a local event-log directory "
            "(default: WORKSPACE/events).",
        ),
    ] = None,
    workspace: Annotated[
        Path,
        typer.Option(
            "--workspace", "-w", help="Where published data, reports and the registry live."
        ),
    ] = Path("workspace"),
    landing: Landing = None,
    registry_url: RegistryUrl = None,
    warehouse: Warehouse = None,
    s3_endpoint_url: S3Endpoint = None,
    once: Annotated[
        bool, typer.Option("--once", help="Stop when no message is waiting instead of polling.")
    ] = False,
    group: Annotated[str, typer.Option(help="Consumer group.")] = "harmonize-worker",
    on_conflict: OnConflict = "reject",
    unmapped: Unmapped = "reject",
    obsolete: Obsolete = "replace",
    low_confidence: LowConfidence = "review",
    limit: LimitOptions = None,
) -> None:
    """Consume harmonize.submissions, ingest each submission, announce the result."""
    from harmonize.events import open_bus
    from harmonize.orchestrate.worker import run_worker

    settings = settings_for(
        workspace,
        events_url=events,
        landing_url=landing,
        registry_url=registry_url,
        warehouse_url=warehouse,
        s3_endpoint_url=s3_endpoint_url,
        limits=limits(limit),
        **policies(on_conflict, unmapped, low_confidence, obsolete),
    )
    stop = {"now": False}

    def _stop(*_: Any) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    bus = open_bus(settings.events)
    try:
        stats = run_worker(
            settings,
            bus,
            once=once,
            group=group,
            should_stop=lambda: stop["now"],
            on_processed=lambda p: typer.echo(f"{p.outcome} {p.submission_id or '-'}"),
        )
    finally:
        bus.close()
    typer.echo(
        f"{len(stats.processed)} events processed, {stats.transient_failures} transient failures"
    )
