"""``harmonize withdraw`` and ``harmonize verify``: the lifecycle commands of a data centre.

``withdraw`` removes one participant from everything a dataset shares.

The same operation as ``POST /admin/drs/v1/withdrawals`` and the dashboard's withdrawal
form; see :mod:`harmonize.lifecycle.withdraw`. ``--erase`` also expires the tables'
history at once (``harmonize tables expire``). ``verify`` cross-checks the registry, the
tables and the files (:mod:`harmonize.lifecycle.verify`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harmonize.cli.options import (
    Landing,
    RegistryUrl,
    S3Endpoint,
    Warehouse,
    Workspace,
    open_workspace,
)


def withdraw(
    dataset: Annotated[str, typer.Option("--dataset", help="The dataset the subject is in.")],
    subject: Annotated[str, typer.Option("--subject", help="The subject id the submitter gave.")],
    by: Annotated[str, typer.Option("--by", help="Who withdraws the subject (for the audit log).")],
    reason: Annotated[str | None, typer.Option(help="Why (kept in the audit log).")] = None,
    erase: Annotated[
        bool, typer.Option("--erase", help="Also expire the history that still holds the rows.")
    ] = False,
    workspace: Workspace = Path("workspace"),
    registry_url: RegistryUrl = None,
    warehouse: Warehouse = None,
    landing: Landing = None,
    s3_endpoint_url: S3Endpoint = None,
) -> None:
    """Withdraw a participant: rows deleted from every table, DRS objects tombstoned, audited."""
    from harmonize.errors import HarmonizeError
    from harmonize.lifecycle.erase import erase as run_erase
    from harmonize.lifecycle.withdraw import withdraw as run

    settings, registry = open_workspace(
        workspace,
        registry_url=registry_url,
        warehouse_url=warehouse,
        landing_url=landing,
        s3_endpoint_url=s3_endpoint_url,
    )
    try:
        done = run(settings, registry, dataset=dataset, subject=subject, by=by, reason=reason)
    except HarmonizeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(3 if exc.transient else 1) from exc
    if done.status == "already-withdrawn":
        typer.echo(f"already withdrawn (withdrawal {done.id}, {done.created_time})")
    else:
        rows = ", ".join(f"{n} {t.replace('_', ' ')}" for t, n in done.rows.items() if n)
        typer.echo(
            f"withdrawn: withdrawal {done.id}, publication {done.seq}; removed {rows or 'no rows'} "
            f"from the current tables; {done.objects} DRS objects tombstoned; "
            f"{len(done.bundles)} bundles have a new checksum"
        )
    if erase:
        erased = run_erase(settings, registry)
        typer.echo(
            f"erased: {sum(erased.files.values())} old table files removed; history before "
            f"publication {erased.seq} is gone"
        )


def verify(
    workspace: Workspace = Path("workspace"),
    checksums: Annotated[
        bool, typer.Option("--checksums/--no-checksums", help="Re-hash every published file.")
    ] = True,
    registry_url: RegistryUrl = None,
    warehouse: Warehouse = None,
    s3_endpoint_url: S3Endpoint = None,
) -> None:
    """Cross-check the registry, the tables and the files; exit 1 on any disagreement."""
    from harmonize.lifecycle.verify import verify as run

    settings, registry = open_workspace(
        workspace,
        registry_url=registry_url,
        warehouse_url=warehouse,
        s3_endpoint_url=s3_endpoint_url,
    )
    problems = run(settings, registry, checksums=checksums)
    for problem in problems:
        typer.echo(str(problem))
    if problems:
        typer.echo(f"{len(problems)} problems", err=True)
        raise typer.Exit(1)
    typer.echo("verified: the registry, the tables and the files agree")
