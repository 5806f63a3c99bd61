"""Start the DRS service under uvicorn; the environment is how settings reach the workers.

``harmonize serve`` puts :func:`app_factory_env` into the environment and runs
``uvicorn harmonize.drs.serve:app_from_env --factory`` (one app per worker process): the
DRS API plus the features of :mod:`harmonize.web`.

>>> env = app_factory_env(workspace=Path("ws"), host="127.0.0.1", port=8080)
>>> env["HARMONIZE_DRS_PUBLIC_URL"], env["HARMONIZE_DRS_WORKSPACE"].endswith("ws")
('http://127.0.0.1:8080', True)
>>> "HARMONIZE_DRS_PUBLIC_URL" in app_factory_env(workspace=Path("ws"), host="0.0.0.0", port=80)
False
"""

from __future__ import annotations

from pathlib import Path

from harmonize.drs.config import default_registry_url
from harmonize.web import app_from_env

__all__ = ["app_factory_env", "app_from_env"]

_ANY_INTERFACE = {"", "0.0.0.0", "::", "[::]"}


def app_factory_env(
    *, workspace: Path, host: str, port: int, registry_url: str | None = None
) -> dict[str, str]:
    """``HARMONIZE_DRS_*`` variables for :func:`app_from_env` to serve ``workspace``.

    The public URL is only set for a concrete host; behind ``0.0.0.0`` the access URLs
    follow each request's own Host.
    """
    root = workspace.resolve()
    env = {
        "HARMONIZE_DRS_WORKSPACE": str(root),
        "HARMONIZE_DRS_REGISTRY_URL": registry_url or default_registry_url(root),
    }
    if host not in _ANY_INTERFACE:
        shown = f"[{host}]" if ":" in host else host
        env["HARMONIZE_DRS_PUBLIC_URL"] = f"http://{shown}:{port}"
    return env
