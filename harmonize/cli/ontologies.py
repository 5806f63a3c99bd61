"""``harmonize ontologies``: fetch pinned releases, diff releases against what is published.

``fetch`` exits 1 when a download fails or its checksum differs from the manifest's;
``diff`` exits 0 whatever it finds (1 only when a release cannot be loaded). Heavy
libraries are imported inside the commands, so ``harmonize --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from harmonize.ontology.diff import Impact, ReleaseDiff
    from harmonize.ontology.manifest import OntologyEntry, OntologyManifest

ontologies = typer.Typer(
    help="Pinned ontology releases: fetch them, and see what a new release changes.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

DIFF_REPORT = Path("reports") / "ontology-diff" / "latest.json"
"""Where ``diff`` always writes its JSON report, relative to the workspace."""


@ontologies.command()
def fetch(
    prefixes: Annotated[
        list[str] | None,
        typer.Argument(help="Prefixes to fetch; default: every release file in the manifest."),
    ] = None,
    ontologies_dir: Annotated[
        Path | None,
        typer.Option(
            "--ontologies-dir", help="Directory with manifest.yaml; default: the repository's."
        ),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(help="Download from this URL (a mirror) instead of the manifest's source."),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the server.")] = 60.0,
) -> None:
    """Download pinned releases into the ontologies directory and check their sha-256."""
    from harmonize.errors import OntologyError
    from harmonize.ontology.fetch import fetch_release, release_present
    from harmonize.ontology.manifest import load_manifest
    from harmonize.settings import Settings

    directory = ontologies_dir or Settings().ontologies_dir
    try:
        manifest = load_manifest(directory, verify=False)
        entries = _entries(manifest, prefixes)
    except OntologyError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    if url is not None and len(entries) != 1:
        raise typer.BadParameter("--url needs exactly one prefix", param_hint="--url")
    failed = 0
    for entry in entries:
        name = f"{entry.prefix} {entry.version}"
        if release_present(entry, directory):
            typer.echo(f"{name}: already present ({directory / str(entry.file)}, sha256 ok)")
            continue
        source = url or entry.source
        try:
            path = fetch_release(entry, directory, url=url, timeout=timeout)
        except OntologyError as exc:
            typer.echo(f"error: {exc}", err=True)
            failed += 1
            continue
        size = path.stat().st_size
        typer.echo(f"{name}: downloaded {source} to {path} ({size:,} bytes, sha256 ok)")
    if failed:
        raise typer.Exit(1)


@ontologies.command()
def compile(
    cache_dir: Annotated[
        Path,
        typer.Option(
            "--cache-dir", help="Where compiled indexes live (the pipeline's ontology cache)."
        ),
    ] = Path("workspace") / "cache",
    ontologies_dir: Annotated[
        Path | None,
        typer.Option(
            "--ontologies-dir", help="Directory with manifest.yaml; default: the repository's."
        ),
    ] = None,
) -> None:
    """Compile every pinned release's term index and code list into the cache (once).

    Run it before starting Airflow so the scheduler's warm-up loads the indexes and every
    task starts with them.
    """
    from harmonize.errors import OntologyError
    from harmonize.ontology import Ontologies
    from harmonize.settings import Settings

    directory = ontologies_dir or Settings().ontologies_dir
    try:
        loaded = Ontologies.load(directory, cache_dir)
        for entry in loaded.manifest.ontologies:
            if loaded.manifest.path(entry.prefix) is None:
                continue  # a code system: no index
            index = loaded.get(entry.prefix)
            typer.echo(f"{entry.prefix} {entry.version}: {len(index):,} terms in {cache_dir}")
        for listed in loaded.manifest.code_lists:
            users = [e.prefix for e in loaded.manifest.ontologies if e.codes == listed.name]
            if users:
                codes = loaded.code_list(users[0])
                assert codes is not None  # the manifest names this list for users[0]
                typer.echo(
                    f"{listed.name} {listed.version} ({', '.join(users)}): "
                    f"{len(codes):,} codes in {cache_dir}"
                )
    except OntologyError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc


def _entries(manifest: OntologyManifest, prefixes: list[str] | None) -> list[OntologyEntry]:
    """The entries asked for; every one with a release file when none are named."""
    from harmonize.errors import OntologyError

    if not prefixes:
        return [e for e in manifest.ontologies if e.file is not None]
    entries = [manifest.entry(p) for p in prefixes]
    for entry in entries:
        if entry.file is None:
            raise OntologyError(
                f"{entry.prefix} is a code system without a release file; nothing to fetch",
                value=entry.prefix,
                hint="only manifest entries with a file can be fetched",
            )
    return entries


@ontologies.command()
def diff(
    old: Annotated[
        Path, typer.Argument(help="The release in use (an OBO file).", dir_okay=False, exists=True)
    ],
    new: Annotated[
        Path,
        typer.Argument(help="The candidate release (an OBO file).", dir_okay=False, exists=True),
    ],
    workspace: Annotated[
        Path,
        typer.Option("--workspace", "-w", help="Where published data and reports live."),
    ] = Path("workspace"),
    prefix: Annotated[str, typer.Option(help="The ontology's CURIE prefix.")] = "HP",
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Also write the JSON report here.")
    ] = None,
    limit: Annotated[int, typer.Option(help="Print at most this many affected rows.")] = 50,
) -> None:
    """Which published Phenopackets use terms the NEW release obsoletes, merges or relabels."""
    from harmonize.errors import OntologyError
    from harmonize.ontology.diff import affected_publications, diff_releases, load_release, report
    from harmonize.settings import Settings

    settings = Settings(workspace=workspace)
    try:
        old_index = load_release(old, prefix, settings.cache_dir)
        new_index = load_release(new, prefix, settings.cache_dir)
    except OntologyError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    changes = diff_releases(old_index, new_index)
    impacts = affected_publications(changes, settings)
    document = report(changes, impacts, old=old_index, new=new_index)
    document["old"]["file"], document["new"]["file"] = str(old), str(new)
    targets = [workspace / DIFF_REPORT, *([json_file] if json_file else [])]
    for target in targets:
        _write_json(target, document)
    _print_summary(changes, impacts, document, limit)
    for target in targets:
        typer.echo(f"report: {target}")


def _print_summary(
    changes: ReleaseDiff, impacts: list[Impact], document: dict[str, Any], limit: int
) -> None:
    from rich.console import Console
    from rich.table import Table

    out = Console(soft_wrap=True, highlight=False)
    counts = changes.counts()
    replaced = sum(1 for c in changes.of_kind("obsolete") if c.replacement)
    out.print(
        f"{changes.old_release} -> {changes.new_release}: "
        f"{counts['obsolete']} obsoleted ({replaced} with a replacement), "
        f"{counts['merged']} merged, {counts['label']} relabelled, {counts['removed']} removed"
    )
    summary = document["summary"]
    if not impacts:
        out.print("no published phenopacket uses a changed term")
        return
    out.print(
        f"{_count(summary['affected_rows'], 'published row')} in "
        f"{_count(summary['affected_phenopackets'], 'phenopacket')} of "
        f"{_count(summary['affected_submissions'], 'submission')} use "
        f"{_count(summary['affected_terms'], 'changed term')}"
    )
    table = Table("submission", "phenopacket", "term", "change", "use instead", "source")
    for impact in impacts[: max(limit, 0)]:
        instead = impact.replacement or ", ".join(impact.consider) or "-"
        if impact.change == "label":
            instead = f"new label: {impact.new_label}"
        elif impact.replacement_label:
            instead = f"{instead} {impact.replacement_label}"
        elif impact.consider and not impact.replacement:
            instead = f"consider {instead}"
        where = impact.source_file or "-"
        if impact.source_row is not None:
            where += f" row {impact.source_row}"
        if impact.source_column:
            where += f" [{impact.source_column}]"
        table.add_row(
            impact.submission_id,
            impact.phenopacket_id,
            f"{impact.term_id} {impact.term_label or ''}".strip(),
            impact.change,
            instead,
            where,
        )
    out.print(table)
    if len(impacts) > limit:
        out.print(f"... and {len(impacts) - limit} more rows in the JSON report")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _write_json(path: Path, document: dict[str, Any]) -> None:
    """Write atomically: a temp file next to ``path``, then ``os.replace``."""
    import json
    import os
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(document, out, indent=2, ensure_ascii=False)
            out.write("\n")
        os.replace(name, path)
    finally:
        Path(name).unlink(missing_ok=True)
