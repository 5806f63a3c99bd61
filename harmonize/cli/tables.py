"""``harmonize tables``: the published tables, now or as an earlier publication left them.

``harmonize tables`` prints each table's rows per submission at the current publication
(``--as-of N|TIME`` for time travel); ``show`` prints a table's rows, ``export --use``
the rows whose consent permits a use, ``log`` the publications, ``migrate`` converts a
workspace published before the table format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from harmonize.cli.options import (
    Landing,
    RegistryUrl,
    S3Endpoint,
    Warehouse,
    Workspace,
    open_workspace,
)

tables = typer.Typer(
    help="The published tables (Delta Lake): now, or as of an earlier publication.",
    invoke_without_command=True,
    rich_markup_mode=None,
)
AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="A publication number (see `harmonize tables log`) or an ISO 8601 time.",
    ),
]


def _open(workspace: Path, registry_url: str | None, warehouse: str | None, s3: str | None) -> Any:
    return open_workspace(
        workspace, registry_url=registry_url, warehouse_url=warehouse, s3_endpoint_url=s3
    )


def _view(registry: Any, as_of: str | None) -> Any:
    from harmonize.errors import HarmonizeError
    from harmonize.warehouse import as_of as view_as_of
    from harmonize.warehouse import current

    try:
        return current(registry) if as_of is None else view_as_of(registry, as_of)
    except HarmonizeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


@tables.callback()
def summary(
    ctx: typer.Context,
    workspace: Workspace = Path("workspace"),
    as_of: AsOf = None,
    registry_url: RegistryUrl = None,
    warehouse: Warehouse = None,
    s3_endpoint_url: S3Endpoint = None,
) -> None:
    """Rows per table and submission, at the current publication or ``--as-of``."""
    if ctx.invoked_subcommand is not None:
        return
    from harmonize.warehouse import TABLES
    from harmonize.warehouse import Warehouse as Store

    settings, registry = _open(workspace, registry_url, warehouse, s3_endpoint_url)
    view = _view(registry, as_of)
    if view.seq == 0:
        typer.echo("nothing is published yet")
        return
    typer.echo(f"publication {view.seq}, committed {view.committed_time.isoformat()}")
    store = Store.of(settings)
    for name in TABLES:
        table = store.read(name, view, columns=["submission_id", "submission_version"])
        typer.echo(f"{name}: {table.num_rows:,} rows")
        if table.num_rows == 0:
            continue
        groups = table.group_by(["submission_id", "submission_version"]).aggregate(
            [("submission_id", "count")]
        )
        for row in groups.sort_by("submission_id").to_pylist():
            typer.echo(
                f"  {row['submission_id']} v{row['submission_version']}: "
                f"{row['submission_id_count']:,}"
            )


@tables.command()
def show(
    table: Annotated[
        str,
        typer.Argument(
            help="individuals | phenotypic_features | diseases | variants | measurements"
        ),
    ],
    workspace: Workspace = Path("workspace"),
    as_of: AsOf = None,
    submission: Annotated[str | None, typer.Option(help="Only this submission's rows.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows (0: all).")] = 0,
    registry_url: RegistryUrl = None,
    warehouse: Warehouse = None,
    s3_endpoint_url: S3Endpoint = None,
) -> None:
    """A table's rows as JSON Lines."""
    import orjson
    import pyarrow.compute as pc

    from harmonize.warehouse import TABLES
    from harmonize.warehouse import Warehouse as Store

    if table not in TABLES:
        raise typer.BadParameter(f"use one of {', '.join(TABLES)}", param_hint="TABLE")
    settings, registry = _open(workspace, registry_url, warehouse, s3_endpoint_url)
    rows = Store.of(settings).read(table, _view(registry, as_of))
    if submission is not None:
        rows = rows.filter(pc.equal(rows.column("submission_id"), submission))
    if limit:
        rows = rows.slice(0, limit)
    for batch in rows.to_batches(10_000):
        for row in batch.to_pylist():
            typer.echo(orjson.dumps(row, default=str).decode())


Codes = Annotated[
    list[str] | None,
    typer.Option(
        "--meets",
        help="A DUO data use modifier the requester meets (e.g. DUO:0000021 ethics approval); "
        "repeat for several. A row with a modifier not listed here is left out.",
    ),
]


@tables.command()
def export(
    use: Annotated[
        str,
        typer.Option(
            "--use", help="The use asked for: a DUO data use permission, e.g. DUO:0000006."
        ),
    ],
    workspace: Workspace = Path("workspace"),
    table: Annotated[
        str,
        typer.Option(
            "--table", help="individuals | phenotypic_features | diseases | variants | measurements"
        ),
    ] = "individuals",
    meets: Codes = None,
    as_of: AsOf = None,
    out: Annotated[
        str, typer.Option("--out", help="FILE.parquet, or - for JSON Lines on stdout.")
    ] = "-",
    registry_url: RegistryUrl = None,
    warehouse: Warehouse = None,
    s3_endpoint_url: S3Endpoint = None,
) -> None:
    """The rows whose individual's consent permits ``--use`` (see the README's "Consent")."""
    import orjson
    import pyarrow.parquet as pq

    from harmonize.consent import DataUse
    from harmonize.consent.export import export as run
    from harmonize.errors import HarmonizeError
    from harmonize.ontology import Ontologies
    from harmonize.warehouse import TABLES
    from harmonize.warehouse import Warehouse as Store

    if table not in TABLES:
        raise typer.BadParameter(f"use one of {', '.join(TABLES)}", param_hint="--table")
    if out != "-" and not out.endswith(".parquet"):
        raise typer.BadParameter("write FILE.parquet, or - for JSON Lines", param_hint="--out")
    settings, registry = _open(workspace, registry_url, warehouse, s3_endpoint_url)
    try:
        data_use = DataUse.of(Ontologies.load(settings.ontologies_dir, settings.cache_dir))
    except HarmonizeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    problem = data_use.use_problem(use)
    if problem is not None:
        raise typer.BadParameter(f"{use} {problem}", param_hint="--use")
    for code in meets or []:
        bad = data_use.problem(code) or (
            None if data_use.kind(code) == "modifier" else "is a permission, not a modifier"
        )
        if bad is not None:
            raise typer.BadParameter(f"{code} {bad}", param_hint="--meets")
    done = run(Store.of(settings), _view(registry, as_of), table, use, data_use, set(meets or []))
    if out == "-":
        for batch in done.rows.to_batches(10_000):
            for row in batch.to_pylist():
                typer.echo(orjson.dumps(row, default=str).decode())
    else:
        pq.write_table(done.rows, out, compression="zstd")
    typer.echo(
        f"{table}: {done.rows.num_rows:,} of {done.total:,} rows exported for {use} "
        f"({data_use.label(use)}); {done.individuals:,} individuals permit it. "
        f"Rule: {data_use.describe()}",
        err=True,
    )


@tables.command()
def log(
    workspace: Workspace = Path("workspace"),
    limit: Annotated[int, typer.Option(help="The newest this many.")] = 50,
    registry_url: RegistryUrl = None,
    warehouse: Warehouse = None,
    s3_endpoint_url: S3Endpoint = None,
) -> None:
    """The publications, newest first: number, time, kind, submission and version."""
    from harmonize.warehouse import ledger

    _, registry = _open(workspace, registry_url, warehouse, s3_endpoint_url)
    with registry.session() as session:
        rows = ledger.history(session, limit)
    for row in rows:
        what = f"{row.submission_id} v{row.version}" if row.submission_id else row.dataset or ""
        when = (row.committed_time or row.started_time).isoformat()
        typer.echo(f"{row.seq:>6}  {when}  {row.kind:<8}  {what}")


@tables.command()
def migrate(
    workspace: Workspace = Path("workspace"),
    consent: Annotated[
        list[str] | None,
        typer.Option(
            "--consent",
            help="DUO codes the participants consented to: CODE (every submission) or "
            "SUBMISSION=CODE[,CODE...] (one submission); repeat it. Before the table format "
            "no consent was kept, so a submission migrated without it is left out of "
            "`tables export`.",
        ),
    ] = None,
) -> None:
    """Convert a workspace published before the table format (hive Parquet) to Delta tables."""
    from harmonize.errors import HarmonizeError
    from harmonize.warehouse.migrate import migrate as run

    settings, registry = _open(workspace, None, None, None)
    try:
        given = _consent_by_submission(settings, consent or [])
        done = run(settings, registry, given)
    except HarmonizeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    for line in done or ["nothing to migrate: the tables are Delta tables already"]:
        typer.echo(line)


def _consent_by_submission(settings: Any, values: list[str]) -> dict[str, list[str]]:
    """``--consent`` values as DUO codes by submission id (``*``: every other submission)."""
    from harmonize.consent import DataUse
    from harmonize.ontology import Ontologies

    data_use = DataUse.of(Ontologies.load(settings.ontologies_dir, settings.cache_dir))
    given: dict[str, list[str]] = {}
    for value in values:
        sid, _, codes = value.rpartition("=") if "=" in value else ("*", "", value)
        for code in (c.strip() for c in codes.split(",")):
            problem = data_use.problem(code)
            if problem is not None:
                raise typer.BadParameter(f"{code} {problem}", param_hint="--consent")
            given.setdefault(sid.strip() or "*", []).append(code)
    return given


@tables.command()
def expire(
    workspace: Workspace = Path("workspace"),
    registry_url: RegistryUrl = None,
    warehouse: Warehouse = None,
    landing: Landing = None,
    s3_endpoint_url: S3Endpoint = None,
) -> None:
    """Erase the tables' history, so withdrawn rows survive nowhere (ends time travel before now)."""
    from harmonize.lifecycle.erase import erase

    settings, registry = _open(workspace, registry_url, warehouse, s3_endpoint_url)
    if landing is not None:
        settings = settings.model_copy(update={"landing_url": landing})
    done = erase(settings, registry)
    for name, count in done.files.items():
        typer.echo(f"{name}: {count} old data files removed")
    typer.echo(
        f"publication {done.seq}: history expired; {done.withdrawals} withdrawals now erased"
    )
