"""``harmonize events``: look at the event bus and re-drive dead letters.

``harmonize events tail TOPIC`` prints messages as JSON Lines (without moving any consumer
group that processing uses); ``harmonize events replay-dlq`` re-drives dead-lettered
submissions to ``harmonize.submissions`` once their cause is fixed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from harmonize.cli.submit import EventsOpt, Workspace

events = typer.Typer(help="Inspect topics; re-drive dead letters.", no_args_is_help=True)


def _bus_url(workspace: Path, url: str | None) -> str:
    from harmonize.settings import Settings

    return Settings(workspace=workspace, events_url=url).events


@events.command("tail")
def tail(
    topic: Annotated[str, typer.Argument(help="harmonize.submissions | .results | .dlq ...")],
    workspace: Workspace = Path("workspace"),
    url: EventsOpt = None,
    max_messages: Annotated[int, typer.Option("--max", help="Stop after this many.")] = 100,
    timeout: Annotated[float, typer.Option(help="Stop after this many idle seconds.")] = 2.0,
    group: Annotated[
        str, typer.Option(help="Consumer group to read as (never committed).")
    ] = "harmonize-tail",
) -> None:
    """Print a topic's messages from the beginning, one JSON object a line."""
    from harmonize.events import open_bus

    bus = open_bus(_bus_url(workspace, url))
    seen = 0
    try:
        while seen < max_messages:
            batch = bus.consume(
                topic, group=group, timeout_s=timeout, max_messages=max_messages - seen
            )
            if not batch:
                break
            for m in batch:
                try:
                    value: object = json.loads(m.value)
                except ValueError:
                    value = m.value.decode("utf-8", "replace")
                line = {
                    "topic": m.topic,
                    "partition": m.partition,
                    "offset": m.offset,
                    "key": m.key,
                    "headers": m.headers,
                    "value": value,
                }
                typer.echo(json.dumps(line, sort_keys=False))
            seen += len(batch)
    finally:
        bus.close()


@events.command("replay-dlq")
def replay(
    workspace: Workspace = Path("workspace"),
    url: EventsOpt = None,
    include_malformed: Annotated[
        bool,
        typer.Option(
            "--include-malformed", help="Re-drive originals that still do not parse, too."
        ),
    ] = False,
    group: Annotated[str, typer.Option(help="The replay's consumer group.")] = (
        "harmonize-dlq-replay"
    ),
    timeout: Annotated[float, typer.Option(help="Wait this long for dead letters.")] = 5.0,
) -> None:
    """Re-drive dead-lettered submissions to harmonize.submissions (after a fix)."""
    from harmonize.errors import HarmonizeError
    from harmonize.events import open_bus, replay_dlq

    bus = open_bus(_bus_url(workspace, url))
    try:
        report = replay_dlq(bus, group=group, only_valid=not include_malformed, timeout_s=timeout)
    except HarmonizeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(3 if exc.transient else 1) from exc
    finally:
        bus.close()
    for label in report.replayed:
        typer.echo(f"replayed {label}")
    for label, why in report.skipped:
        typer.echo(f"skipped  {label}: {why}")
    typer.echo(f"{len(report.replayed)} replayed, {len(report.skipped)} still malformed")
