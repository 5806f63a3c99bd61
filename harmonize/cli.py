"""``harmonize``: ingest submissions, validate Phenopackets, serve the DRS API.

Exit codes of ``ingest``: 0 published (or already published), 1 rejected (the report's
path is printed), 2 usage error. Heavy libraries are imported inside the commands so that
``harmonize --help`` answers at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from harmonize.cli_policy import LowConfidence, Obsolete, OnConflict, Unmapped, choice, policies

app = typer.Typer(
    name="harmonize",
    help="Clinical submissions to validated GA4GH Phenopackets, Parquet tables and DRS objects.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: importing rich for it costs most of a second
)


def _add_ontology_commands() -> None:
    """``harmonize ontologies ...`` lives in its own module (kept light at import)."""
    from harmonize.cli_db import db
    from harmonize.cli_drs import drs
    from harmonize.cli_events import events
    from harmonize.cli_ontologies import ontologies
    from harmonize.cli_review import review
    from harmonize.cli_submit import submit
    from harmonize.cli_worker import worker

    app.command()(worker)

    app.add_typer(ontologies, name="ontologies")
    app.add_typer(review, name="review")
    app.add_typer(drs, name="drs")
    app.command()(submit)
    app.add_typer(events, name="events")
    app.add_typer(db, name="db")


Workspace = Annotated[
    Path,
    typer.Option("--workspace", "-w", help="Where published data, reports and the registry live."),
]


def _print_errors(out: Any, report_json: Path | None, limit: int = 10) -> None:
    """The first errors of a report, each with where it points and what to do."""
    from harmonize.quality.findings import QualityReport

    if report_json is None or not report_json.is_file():
        return
    report = QualityReport.model_validate_json(report_json.read_text())
    errors = [f for f in report.findings if f.level == "error"]
    for f in errors[:limit]:
        where = f.location.describe()
        out.print(f"  [red]{f.category}[/red] {where}: {f.message}")
        if f.hint:
            out.print(f"    -> {f.hint}")
    if len(errors) > limit:
        out.print(f"  ... and {len(errors) - limit} more in the report")


def _settings(workspace: Path, **overrides: Any) -> Any:
    from harmonize.settings import Settings

    return Settings(workspace=workspace, **{k: v for k, v in overrides.items() if v is not None})


@app.command()
def ingest(
    submission: Annotated[
        Path, typer.Argument(help="A directory with manifest.yaml, or one data file.")
    ],
    profile: Annotated[
        str | None,
        typer.Option(help="hpo-case-template | tabular | phenopacket (required for one file)."),
    ] = None,
    mapping: Annotated[
        Path | None, typer.Option(help="Mapping YAML for the tabular profile.")
    ] = None,
    workspace: Workspace = Path("workspace"),
    max_file_mb: Annotated[int | None, typer.Option(help="Refuse files larger than this.")] = None,
    access: Annotated[
        str | None,
        typer.Option(
            help="public | controlled: the access of a single data file (default controlled). "
            "A manifest must say its own."
        ),
    ] = None,
    keep_redundant: Annotated[
        bool, typer.Option("--keep-redundant", help="Keep observed ancestors of observed terms.")
    ] = False,
    on_conflict: OnConflict = "reject",
    unmapped: Unmapped = "reject",
    obsolete: Obsolete = "replace",
    low_confidence: LowConfidence = "review",
) -> None:
    """Read, harmonize, check and publish one submission."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from harmonize.errors import HarmonizeError
    from harmonize.pipeline import ingest as run

    console = Console(stderr=True)
    settings = _settings(
        workspace,
        max_file_bytes=max_file_mb * 1024 * 1024 if max_file_mb else None,
        default_access=choice("--access", access, ("public", "controlled")) if access else None,
        remove_redundant_ancestors=not keep_redundant,
        **policies(on_conflict, unmapped, low_confidence, obsolete),
    )
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} individuals"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task(f"ingesting {submission.name}", total=None)

        def progress(what: str, n: int) -> None:
            bar.update(task, advance=n, description=f"ingesting {what}")

        try:
            result = run(submission, settings, profile=profile, mapping=mapping, progress=progress)
        except HarmonizeError as exc:
            console.print(f"[red]error[/red]: {exc}")
            raise typer.Exit(3 if exc.transient else 1) from exc
    out = Console(soft_wrap=True, highlight=False)
    if result.status == "rejected":
        out.print(f"[red]rejected[/red] {result.submission_id}: {result.message}")
        _print_errors(out, result.report_json)
        out.print(f"report: {result.report_html}")
        raise typer.Exit(1)
    if result.status == "already-published":
        out.print(
            f"[yellow]already published[/yellow] {result.submission_id} (bundle {result.bundle_id})"
        )
        return
    counts = ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in result.counts.items() if v)
    out.print(f"[green]published[/green] {result.submission_id}: {counts}")
    out.print(f"phenopackets: {workspace / 'published/phenopackets' / result.submission_id}")
    out.print(
        f"tables:       {workspace / 'published/tables'}/<table>/submission_id={result.submission_id}"
    )
    out.print(f"DRS bundle:   {result.bundle_id}")
    out.print(f"report:       {result.report_html}")


@app.command()
def validate(
    files: Annotated[
        list[Path], typer.Argument(help="Phenopacket JSON files, directories or JSON Lines.")
    ],
    workspace: Workspace = Path("workspace"),
) -> None:
    """Check Phenopackets against the schema, the pinned ontologies and the semantic rules."""
    from rich.console import Console

    from harmonize.errors import HarmonizeError
    from harmonize.quality.validate import validate_files

    console = Console()
    try:
        report = validate_files(files, _settings(workspace))
    except HarmonizeError as exc:
        console.print(f"[red]error[/red]: {exc}")
        raise typer.Exit(1) from exc
    for f in report.findings:
        colour = {"error": "red", "warning": "yellow"}.get(f.level, "blue")
        console.print(
            f"[{colour}]{f.level}[/{colour}] {f.location.describe()}: {f.message}", highlight=False
        )
    counts = report.counts()
    console.print(
        f"{report.stats.get('phenopackets', 0)} phenopackets: "
        f"{counts['error']} errors, {counts['warning']} warnings"
    )
    if counts["error"]:
        raise typer.Exit(1)


@app.command()
def recover(workspace: Workspace = Path("workspace")) -> None:
    """Finish commits interrupted by a crash and discard abandoned staging."""
    from harmonize.drs.registry import Registry
    from harmonize.publish.commit import recover as run
    from harmonize.settings import Settings
    from harmonize.state.store import StateStore

    settings = Settings(workspace=workspace)
    registry = Registry(settings.registry)
    registry.create_all()
    for line in run(workspace, registry, StateStore(settings.registry)) or ["nothing to recover"]:
        typer.echo(line)


@app.command()
def serve(
    workspace: Workspace = Path("workspace"),
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes.")] = 1,
    registry_url: Annotated[
        str | None,
        typer.Option(
            envvar="HARMONIZE_REGISTRY_URL",
            help="SQLAlchemy URL of the registry (default: SQLite in the workspace).",
        ),
    ] = None,
) -> None:
    """Serve the DRS 1.5 API, and the submissions API and dashboard when configured."""
    import os
    import secrets

    import uvicorn

    from harmonize.drs.serve import app_factory_env

    os.environ.update(
        app_factory_env(workspace=workspace, host=host, port=port, registry_url=registry_url)
    )
    # one URL-signing key for every worker of this run (a URL signed by one worker must
    # open on the others); a configured key wins
    os.environ.setdefault("HARMONIZE_DRS_URL_SIGNING_KEY", secrets.token_urlsafe(32))
    uvicorn.run(
        "harmonize.drs.serve:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )


_add_ontology_commands()


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
