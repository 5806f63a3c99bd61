"""``harmonize drs``: audit the DRS registry (what is published, and who may read it).

``harmonize drs ls`` prints one JSON object per line for every registered DRS object and
bundle (deleted ones included, flagged), in id order, read from the registry in pages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

drs = typer.Typer(
    help="Inspect the DRS registry.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
Workspace = Annotated[Path, typer.Option("--workspace", "-w", help="The workspace.")]


def _iso(value: Any) -> str:
    """An aware UTC datetime as ISO 8601 with a ``Z``."""
    from datetime import UTC

    return str(value.astimezone(UTC).isoformat().replace("+00:00", "Z"))


@drs.command("ls")
def ls(
    workspace: Workspace = Path("workspace"),
    submission: Annotated[
        str | None, typer.Option("--submission", help="Only this submission's objects.")
    ] = None,
) -> None:
    """Registered DRS objects and bundles as JSON Lines, in id order."""
    import json

    from harmonize.drs.registry import Registry
    from harmonize.settings import Settings

    settings = Settings(workspace=workspace)
    if not (workspace / "registry.sqlite").exists():
        return  # nothing registered yet; an audit never creates a registry
    registry = Registry(settings.registry)
    try:
        registry.create_all()
        for row in registry.iter_objects(submission_id=submission):
            record = {
                "id": row.id,
                "name": row.name,
                "size": row.size,
                "checksums": [{"type": "sha-256", "checksum": row.sha256}],
                "is_bundle": bool(row.is_bundle),
                "access": row.access,
                "submission_id": row.submission_id,
                "role": row.role,
                "deleted": bool(row.deleted),
                "created_time": _iso(row.created_time),
                "consent": row.consent,  # DUO codes; null: none recorded
            }
            typer.echo(json.dumps(record, separators=(",", ":")))
    finally:
        registry.dispose()


@drs.command("resolve")
def resolve(
    uri: Annotated[str, typer.Argument(help="drs://host/id or drs://prefix:accession")],
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            help="Base URL of the DRS service (required for compact URIs; "
            "default for drs://host/id: https://host).",
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option("--token", envvar="HARMONIZE_DRS_TOKEN", help="Bearer JWT or passport."),
    ] = None,
) -> None:
    """Fetch the DRS object a drs:// URI names and print it as JSON."""
    from urllib.parse import quote

    import httpx

    from harmonize.drs.links import API_PREFIX
    from harmonize.drs.uris import parse_drs_uri

    try:
        parsed = parse_drs_uri(uri)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    if parsed.host is not None:
        base, object_id = server or f"https://{parsed.host}", parsed.accession
    elif server is None:
        raise typer.BadParameter("a compact URI needs --server (where its prefix resolves)")
    else:
        base, object_id = server, f"{parsed.prefix}:{parsed.accession}"
    url = f"{base.rstrip('/')}{API_PREFIX}/objects/{quote(object_id, safe=':')}"
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = httpx.get(url, headers=headers, timeout=30)
    except httpx.HTTPError as exc:
        typer.echo(f"cannot reach {url}: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(response.text)
    if response.status_code != 200:
        raise typer.Exit(1)
