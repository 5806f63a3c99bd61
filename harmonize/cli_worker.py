"""``harmonize worker``: the Airflow-free driver of event-driven ingestion."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated, Any

import typer

# The policy options of ``harmonize ingest``, same names, help and defaults (cli.py declares
# them inline; a test keeps the two in step). The values are checked by cli._choice.
OnConflict = Annotated[
    str,
    typer.Option(help="An observed term with an excluded ancestor: reject | keep-observed."),
]
Unmapped = Annotated[
    str, typer.Option(help="A value no ontology term matches: reject | flag | drop.")
]
Obsolete = Annotated[
    str,
    typer.Option(help="An obsolete term with a replacement: replace (warn) | reject."),
]
LowConfidence = Annotated[
    str,
    typer.Option(help="A fuzzy or weak term match: review (hold for a curator) | accept."),
]


def worker(
    events: Annotated[
        str | None,
        typer.Option(
            help="Event bus: kafka://host:port or a local event-log directory "
            "(default: WORKSPACE/events)."
        ),
    ] = None,
    workspace: Annotated[
        Path,
        typer.Option(
            "--workspace", "-w", help="Where published data, reports and the registry live."
        ),
    ] = Path("workspace"),
    landing: Annotated[
        str | None,
        typer.Option(
            help="Landing store: a directory or s3://bucket/prefix (default: WORKSPACE/landing)."
        ),
    ] = None,
    once: Annotated[
        bool, typer.Option("--once", help="Stop when no message is waiting instead of polling.")
    ] = False,
    group: Annotated[str, typer.Option(help="Consumer group.")] = "harmonize-worker",
    on_conflict: OnConflict = "reject",
    unmapped: Unmapped = "reject",
    obsolete: Obsolete = "replace",
    low_confidence: LowConfidence = "review",
) -> None:
    """Consume harmonize.submissions, ingest each submission, announce the result."""
    from harmonize.cli import _choice, _settings
    from harmonize.events import open_bus
    from harmonize.orchestrate.worker import run_worker

    settings = _settings(
        workspace,
        events_url=events,
        landing_url=landing,
        on_conflict=_choice("--on-conflict", on_conflict, ("reject", "keep-observed")),
        unmapped_policy=_choice("--unmapped", unmapped, ("reject", "flag", "drop")),
        low_confidence=_choice("--low-confidence", low_confidence, ("review", "accept")),
        obsolete=_choice("--obsolete", obsolete, ("replace", "reject")),
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
