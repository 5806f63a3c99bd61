"""``harmonize serve``: the DRS API and the Beacon v2, and the submissions API and dashboard
when configured."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harmonize.cli.options import Workspace


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
    """Serve the DRS 1.5 API and Beacon v2, and the submissions API and dashboard if configured."""
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
        access_log=False,
    )
