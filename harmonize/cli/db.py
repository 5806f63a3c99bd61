"""``harmonize db``: the database schema (Alembic migrations shipped in the package).

``harmonize db upgrade`` brings the registry, state and review tables to the newest
revision (what every store also does when it opens a database); ``harmonize db current``
prints the revision a database is at. Deployments run ``upgrade`` once before starting
services; running it again, or from several hosts at once, is harmless.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

db = typer.Typer(
    help="Manage the database schema (migrations).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
Url = Annotated[
    str | None,
    typer.Option("--url", help="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/harmonize."),
]
Workspace = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", help="Use the workspace's embedded SQLite database."),
]


def _url(url: str | None, workspace: Path | None) -> str:
    if url is not None and workspace is not None:
        raise typer.BadParameter("give --url or --workspace, not both")
    if url is not None:
        return url
    from harmonize.settings import Settings

    return Settings(workspace=workspace or Path("workspace")).registry


def _shown(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@db.command("upgrade")
def upgrade(url: Url = None, workspace: Workspace = None) -> None:
    """Migrate the database to the newest revision (idempotent)."""
    from harmonize.db import current_revision, head_revision
    from harmonize.db import upgrade as migrate
    from harmonize.errors import RegistryError

    target = _url(url, workspace)
    try:
        before = current_revision(target)
        migrate(target)
    except RegistryError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(3) from exc
    head = head_revision()
    change = "already at" if before == head else f"upgraded from {before or 'empty'} to"
    typer.echo(f"{_shown(target)}: {change} revision {head} (head)")


@db.command("current")
def current(url: Url = None, workspace: Workspace = None) -> None:
    """Print the revision the database is at ("none" for a database never migrated)."""
    from harmonize.db import current_revision, head_revision
    from harmonize.errors import RegistryError

    target = _url(url, workspace)
    if url is None and not (workspace or Path("workspace")).joinpath("registry.sqlite").exists():
        typer.echo("none")  # an empty workspace: asking never creates a database
        return
    try:
        revision = current_revision(target)
    except RegistryError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(3) from exc
    suffix = " (head)" if revision == head_revision() else ""
    typer.echo(f"{revision or 'none'}{suffix}")
