"""``harmonize discover``: a Beacon v2 query run in-process on a workspace.

The same :meth:`harmonize.discovery.beacon.engine.Beacon.answer` the HTTP routes call,
so the answer is the one ``/ga4gh/beacon/v2`` gives: small counts suppressed for
anonymous callers. ``--all-datasets`` answers as a caller holding a grant for every
dataset (a curator who runs this on the workspace already holds the data), which gives
true counts and records.

    harmonize discover --filter HP:0001250 --granularity count --workspace ws
    harmonize discover --filter HP:0001250 --filter age:>=P18Y --format table -w ws
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from harmonize.cli.options import RegistryUrl, S3Endpoint, Warehouse, Workspace, open_workspace


def discover(
    filters: Annotated[
        list[str] | None,
        typer.Option(
            "--filter",
            "-f",
            help="A Beacon filter: a term (HP:0001250, OMIM:240300, NCIT:C16576) or "
            "field:operator value (age:>=P18Y, LOINC:4548-4:>48). Repeat to AND them.",
        ),
    ] = None,
    granularity: Annotated[
        Literal["boolean", "count", "record"], typer.Option(help="requestedGranularity.")
    ] = "count",
    entry: Annotated[
        Literal["individuals", "g_variants", "datasets"], typer.Option(help="Entry type.")
    ] = "individuals",
    gene: Annotated[str | None, typer.Option(help="g_variants: geneId.")] = None,
    allele: Annotated[
        str | None, typer.Option(help="g_variants: genomicAlleleShortForm (HGVS).")
    ] = None,
    dataset: Annotated[
        list[str] | None, typer.Option("--dataset", help="Search only these datasets.")
    ] = None,
    all_datasets: Annotated[
        bool,
        typer.Option("--all-datasets", help="Answer as a holder of every dataset's grant."),
    ] = False,
    skip: Annotated[int, typer.Option(min=0)] = 0,
    limit: Annotated[int, typer.Option(min=1)] = 10,
    output: Annotated[
        Literal["json", "table"], typer.Option("--format", help="Beacon JSON or a table.")
    ] = "json",
    workspace: Workspace = Path("workspace"),
    registry_url: RegistryUrl = None,
    warehouse: Warehouse = None,
    s3_endpoint_url: S3Endpoint = None,
) -> None:
    """Run a Beacon v2 query on the workspace's current published tables."""
    from harmonize.discovery.beacon import BeaconSettings
    from harmonize.discovery.beacon.engine import Beacon
    from harmonize.discovery.beacon.errors import BeaconRequestError
    from harmonize.discovery.beacon.filters import parse_get
    from harmonize.discovery.beacon.request import Query
    from harmonize.drs.authconfig import AuthSettings

    settings, registry = open_workspace(
        workspace,
        registry_url=registry_url,
        warehouse_url=warehouse,
        s3_endpoint_url=s3_endpoint_url,
        create=False,
    )
    auth = AuthSettings()
    # a curator holding the workspace is not asked for a data use (the HTTP Beacon asks)
    beacon = Beacon(
        settings, registry, BeaconSettings(require_data_use=False), visa_value=auth.visa_value
    )
    variant = {k: v for k, v in (("geneId", gene), ("genomicAlleleShortForm", allele)) if v}
    query = Query(
        entry=entry,
        filters=[f for text in filters or [] for f in parse_get(text)],
        granularity=granularity,
        skip=skip,
        limit=limit,
        datasets=list(dataset) if dataset else None,
        variant=variant,
    )
    try:
        grants = (
            frozenset(auth.visa_value(d) for d in beacon.datasets())
            if all_datasets
            else frozenset()
        )
        answer = beacon.answer(query, grants)
    except BeaconRequestError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    finally:
        registry.dispose()
    if output == "json":
        typer.echo(json.dumps(answer, indent=2))
    else:
        _table(answer)


def _table(answer: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    summary = answer.get("responseSummary", {})
    granularity = answer["meta"]["returnedGranularity"]
    line = f"exists: {summary.get('exists')}"
    if "numTotalResults" in summary:
        line += f"   numTotalResults: {summary['numTotalResults']}"
    console.print(f"[bold]{line}[/bold]   (granularity: {granularity})")
    response = answer.get("response", {})
    if "collections" in response:
        table = Table("dataset", "security level", "data use conditions")
        for c in response["collections"]:
            uses = c.get("dataUseConditions", {}).get("duoDataUse", [])
            codes = ", ".join(f"{u['id']} {u.get('label', '')}".strip() for u in uses)
            table.add_row(c["id"], c["info"]["securityLevel"], codes)
        console.print(table)
    for result_set in response.get("resultSets", []):
        table = Table(title=f"{result_set['id']}: {result_set['resultsCount']} results")
        table.add_column("id")
        table.add_column("details")
        for record in result_set["results"]:
            key = record.get("id") or record.get("variantInternalId", "")
            if "sex" in record:
                features = [
                    f["featureType"]["id"]
                    for f in record.get("phenotypicFeatures", [])
                    if not f.get("excluded")
                ]
                detail = f"{record['sex']['label']}; {len(features)} features"
            else:
                detail = ", ".join(record.get("molecularAttributes", {}).get("geneIds", []))
            table.add_row(key, detail)
        console.print(table)
    note = answer.get("info", {}).get("smallCountSuppression")
    if note:
        console.print(f"[dim]{note}[/dim]")
