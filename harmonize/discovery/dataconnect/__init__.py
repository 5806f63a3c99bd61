"""GA4GH Data Connect at ``/ga4gh/data-connect/v1``: the published tables and SQL over them.

Served by ``harmonize serve`` beside DRS. It reads the current publication's tables
through the table format (never a copy), restricted to the datasets the caller may read
(:mod:`.service` says who reads what). ``POST /search`` runs one checked ``SELECT``
(:mod:`.guard`) in a locked-down DuckDB (:mod:`.engine`).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

__all__ = ["mount"]


def mount(app: FastAPI, settings: Any) -> None:
    """Serve Data Connect on ``app`` (the web app), over the DRS registry and the pipeline's
    warehouse; ``settings.data_connect`` (a WebSettings field), when set, tunes it."""
    from harmonize.discovery.dataconnect.config import DataConnectSettings
    from harmonize.discovery.dataconnect.routes import error_response, router
    from harmonize.discovery.dataconnect.service import DataConnect, DataConnectError
    from harmonize.warehouse import Warehouse

    config = getattr(settings, "data_connect", None) or DataConnectSettings()
    app.state.data_connect = DataConnect(
        registry=app.state.registry,
        warehouse=Warehouse.of(app.state.pipeline),
        authority=app.state.authority,
        settings=config,
    )
    app.add_exception_handler(DataConnectError, error_response)
    app.include_router(router)
