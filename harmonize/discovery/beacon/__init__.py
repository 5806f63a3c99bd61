"""GA4GH Beacon v2 over the current published tables (``/ga4gh/beacon/v2``).

- :mod:`.definitions`: which filters map to which table columns (data);
- :mod:`.request`, :mod:`.filters`, :mod:`.plan`: a query read from GET or POST, its filters
  checked, compiled into one SQL plan;
- :mod:`.engine`: :class:`Beacon`, which answers a query on the current snapshot;
- :mod:`.privacy`: the thresholds, rounding and budget every answer passes through;
- :mod:`.routes`: the HTTP routes; ``harmonize discover`` calls the engine in-process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harmonize.discovery.beacon.config import BeaconSettings, DatasetPolicy

if TYPE_CHECKING:
    from fastapi import FastAPI

    from harmonize.web import WebSettings

__all__ = ["BeaconSettings", "DatasetPolicy", "mount"]


def mount(app: FastAPI, settings: WebSettings) -> None:
    """Serve the Beacon beside DRS when ``settings.beacon`` is set (the default)."""
    if settings.beacon is None:
        return
    from harmonize.discovery.beacon import routes

    routes.mount(app, settings.beacon)
