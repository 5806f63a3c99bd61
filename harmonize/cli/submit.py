"""``harmonize submit DIR``: land a submission's files and announce it on the event bus.

Exit codes: 0 submitted, 1 the submission is unusable (the file and what to do are printed),
3 a transient failure (landing store or broker unreachable); retrying is safe.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

EventsOpt = Annotated[
    str | None,
    typer.Option(
        "--events",
        envvar="HARMONIZE_EVENTS_URL",
        help="kafka://host:port or a local event log directory (default WORKSPACE/events).",
    ),
]
LandingOpt = Annotated[
    str | None,
    typer.Option(
        "--landing",
        envvar="HARMONIZE_LANDING_URL",
        help="A landing directory or s3://bucket/prefix (default WORKSPACE/landing).",
    ),
]
S3EndpointOpt = Annotated[
    str | None,
    typer.Option(
        "--s3-endpoint",
        envvar="HARMONIZE_S3_ENDPOINT_URL",
        help="An S3-compatible endpoint URL (MinIO, ...); default: AWS.",
    ),
]
Workspace = Annotated[
    Path,
    typer.Option("--workspace", "-w", help="Where the state store (and the defaults) live."),
]


def submit(
    directory: Annotated[Path, typer.Argument(help="A submission directory with manifest.yaml.")],
    workspace: Workspace = Path("workspace"),
    events: EventsOpt = None,
    landing: LandingOpt = None,
    s3_endpoint: S3EndpointOpt = None,
) -> None:
    """Copy a submission to the landing store, then emit submission.created."""
    from harmonize.errors import HarmonizeError
    from harmonize.intake.submit import submit as run
    from harmonize.settings import Settings

    settings = Settings(
        workspace=workspace, events_url=events, landing_url=landing, s3_endpoint_url=s3_endpoint
    )
    try:
        created = run(directory, settings)
    except HarmonizeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(3 if exc.transient else 1) from exc
    typer.echo(f"submitted {created.submission_id} (manifest sha-256 {created.manifest_sha256})")
    typer.echo(f"landed at: {created.manifest_uri}")
    typer.echo(f"event:     harmonize.submissions on {settings.events}")
