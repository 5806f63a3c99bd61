"""``harmonize report SUBMISSION``: a submission's quality report, from wherever it is.

The state store names the report of each version (``report_path``): a local path, or an
``s3://`` object in the warehouse when one is configured. This reads it there, so the
report of a submission another host rejected is at hand on any host that reaches the
registry and the object store. Exit codes: 0 shown, 1 no such submission or report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from harmonize.cli.options import RegistryUrl, S3Endpoint, Workspace


def report(
    submission_id: Annotated[str, typer.Argument(help="The submission's id.")],
    workspace: Workspace = Path("workspace"),
    registry_url: RegistryUrl = None,
    s3_endpoint_url: S3Endpoint = None,
    html: Annotated[
        bool, typer.Option("--html", help="Print the report's HTML page instead.")
    ] = False,
) -> None:
    """Print a submission's latest report: its status and first errors (or its HTML)."""
    from harmonize.errors import HarmonizeError
    from harmonize.quality.findings import QualityReport
    from harmonize.quality.report_store import read_report_file, report_location
    from harmonize.settings import Settings
    from harmonize.state.store import StateStore

    settings = Settings(workspace=workspace, registry_url=registry_url)
    versions = [
        v for v in StateStore(settings.registry).versions(submission_id) if v["report_path"]
    ]
    if not versions:
        typer.echo(f"error: no report for submission {submission_id!r}", err=True)
        raise typer.Exit(1)
    latest = max(versions, key=lambda v: v["updated_at"])
    uri = str(latest["report_path"])
    target = report_location(uri, "report.html") if html else uri
    assert target is not None
    try:
        data = read_report_file(target, s3_endpoint_url=s3_endpoint_url)
    except (OSError, HarmonizeError) as exc:
        typer.echo(f"error: cannot read the report at {target}: {exc}", err=True)
        raise typer.Exit(1) from exc
    if html:
        typer.echo(data.decode("utf-8"), nl=False)
        return
    from rich.console import Console

    parsed = QualityReport.model_validate_json(data)
    out = Console(soft_wrap=True, highlight=False)
    counts = ", ".join(
        f"{n} {level}{'' if n == 1 else 's'}" for level, n in parsed.counts().items() if n
    )
    out.print(f"{latest['status']} {submission_id} ({counts or 'no findings'})")
    out.print(f"report: {uri}")
    print_errors(out, parsed)


def print_errors(out: Any, parsed: Any, limit: int = 10) -> None:
    """The first errors of a report, each with where it points and what to do."""
    errors = [f for f in parsed.findings if f.level == "error"]
    for f in errors[:limit]:
        where = f.location.describe()
        out.print(f"  [red]{f.category}[/red] {where}: {f.message}")
        if f.hint:
            out.print(f"    -> {f.hint}")
    more = sum(f.weight for f in errors) - sum(f.weight for f in errors[:limit])
    if more > 0:  # counted as the headline counts them (a summary's rows included)
        out.print(f"  ... and {more:,} more in the report")
