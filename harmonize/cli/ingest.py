"""``harmonize ingest``, ``validate`` and ``recover``: the pipeline run by hand on a workspace.

Exit codes of ``ingest``: 0 published (or already published), 1 rejected (the report's
path is printed), 2 usage error (a bad option, or a mapping YAML that cannot be read: the
operator fixes it, the submission is not rejected for it). Heavy libraries are imported inside the commands so that
``harmonize --help`` answers at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from harmonize.cli.options import (
    LimitOptions,
    LowConfidence,
    Obsolete,
    OnConflict,
    RegistryUrl,
    S3Endpoint,
    Unmapped,
    Warehouse,
    Workspace,
    choice,
    limits,
    open_workspace,
    policies,
    settings_for,
)


def _print_errors(out: Any, report_json: Path | None, limit: int = 10) -> None:
    """The first errors of a report, each with where it points and what to do."""
    from harmonize.cli.report import print_errors
    from harmonize.quality.findings import QualityReport

    if report_json is None or not report_json.is_file():
        return
    print_errors(out, QualityReport.model_validate_json(report_json.read_text()), limit)


def check_mapping(source: Path, profile: str | None, mapping: Path | None) -> None:
    """Read the mapping YAML an ingest of ``source`` would use; ConfigurationError if broken.

    Only the mapping is judged here: a missing or unreadable manifest, a missing mapping
    file, are the pipeline's to report.
    """
    from harmonize.errors import SubmissionError
    from harmonize.submission.manifest import load_manifest

    named = None
    if source.is_dir():
        try:
            manifest, _ = load_manifest(source)
        except SubmissionError:
            return
        profile = profile or manifest.profile
        named = source / manifest.mapping if manifest.mapping else None
    path = mapping or named
    if path is None or not path.is_file():
        return
    if profile == "tabular":
        from harmonize.mapping.profiles.mapping_file import load_mapping

        load_mapping(path)
    elif profile == "redcap":
        from harmonize.mapping.profiles.redcap_mapping import load_redcap_mapping

        load_redcap_mapping(path)


def ingest(
    submission: Annotated[
        Path, typer.Argument(help="A directory with manifest.yaml, or one data file.")
    ],
    profile: Annotated[
        str | None,
        typer.Option(
            help="hpo-case-template | tabular | phenopacket | fhir | beacon | redcap | omop "
            "(required for one file)."
        ),
    ] = None,
    mapping: Annotated[
        Path | None, typer.Option(help="Mapping YAML for the tabular or redcap profile.")
    ] = None,
    workspace: Workspace = Path("workspace"),
    registry_url: RegistryUrl = None,
    warehouse: Warehouse = None,
    s3_endpoint_url: S3Endpoint = None,
    max_file_mb: Annotated[int | None, typer.Option(help="Refuse files larger than this.")] = None,
    limit: LimitOptions = None,
    access: Annotated[
        str | None,
        typer.Option(
            help="public | controlled: the access of a single data file (default controlled). "
            "A manifest must say its own."
        ),
    ] = None,
    keep_redundant: Annotated[
        bool,
        typer.Option(
            "--keep-redundant",
            help="Keep redundant statements (observed ancestors, excluded descendants) in the "
            "phenotypic_features table; Phenopackets never hold them.",
        ),
    ] = False,
    on_conflict: OnConflict = "reject",
    unmapped: Unmapped = "reject",
    obsolete: Obsolete = "replace",
    low_confidence: LowConfidence = "review",
) -> None:
    """Read, harmonize, check and publish one submission."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from harmonize.errors import ConfigurationError, HarmonizeError
    from harmonize.pipeline import ingest as run

    console = Console(stderr=True)
    try:
        check_mapping(submission, profile, mapping)
    except ConfigurationError as exc:
        console.print(f"[red]usage error[/red]: {exc}")
        raise typer.Exit(2) from exc
    settings = settings_for(
        workspace,
        registry_url=registry_url,
        warehouse_url=warehouse,
        s3_endpoint_url=s3_endpoint_url,
        max_file_bytes=max_file_mb * 1024 * 1024 if max_file_mb else None,
        limits=limits(limit),
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
        if result.report_uri and result.report_uri != str(result.report_json):
            out.print(f"stored: {result.report_uri}")
        raise typer.Exit(1)
    if result.status == "already-published":
        out.print(
            f"[yellow]already published[/yellow] {result.submission_id} (bundle {result.bundle_id})"
        )
        return
    counts = ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in result.counts.items() if v)
    out.print(f"[green]published[/green] {result.submission_id}: {counts} ({result.message})")
    root = settings.warehouse_url or str(workspace)
    out.print(f"phenopackets: {root}/published/phenopackets/{result.submission_id}/")
    out.print(
        f"tables:       harmonize tables -w {workspace}  (Delta tables in {root}/published/tables)"
    )
    out.print(f"DRS bundle:   {result.bundle_id}")
    out.print(f"report:       {result.report_html}")


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
        report = validate_files(files, settings_for(workspace))
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


def recover(
    workspace: Workspace = Path("workspace"),
    registry_url: RegistryUrl = None,
    warehouse: Warehouse = None,
    s3_endpoint_url: S3Endpoint = None,
) -> None:
    """Finish commits interrupted by a crash and discard abandoned staging."""
    from harmonize.publish.commit import recover as run
    from harmonize.state.store import StateStore

    settings, registry = open_workspace(
        workspace,
        registry_url=registry_url,
        warehouse_url=warehouse,
        s3_endpoint_url=s3_endpoint_url,
    )
    for line in run(settings, registry, StateStore(settings.registry)) or ["nothing to recover"]:
        typer.echo(line)
