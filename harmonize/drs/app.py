"""The DRS service: ``create_app(settings)`` serves the GA4GH DRS 1.5.0 read API.

Run it with uvicorn, settings read from ``HARMONIZE_DRS_*`` variables::

    uvicorn harmonize.drs.app:app_from_env --factory --port 8080
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from harmonize import __version__
from harmonize.drs.config import DrsEnvSettings, DrsSettings
from harmonize.drs.http_errors import install_error_handlers
from harmonize.drs.links import API_PREFIX
from harmonize.drs.registry import Registry
from harmonize.drs.routes import access, download, objects, service_info


def create_app(settings: DrsSettings, *, registry: Registry | None = None) -> FastAPI:
    """A FastAPI app for ``settings``; pass ``registry`` to share one (it is then not disposed)."""
    owned = registry is None
    active = registry if registry is not None else Registry(settings.registry_url)
    active.create_all()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            active.dispose()

    app = FastAPI(
        title="Harmonize DRS",
        version=__version__,
        description="GA4GH Data Repository Service 1.5.0 (read API) for published files",
        lifespan=lifespan,
        docs_url=f"{API_PREFIX}/docs",
        openapi_url=f"{API_PREFIX}/openapi.json",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.registry = active
    install_error_handlers(app)
    # access before objects: POST /objects/access must not match /objects/{object_id}
    for module in (service_info, access, objects, download):
        app.include_router(module.router, prefix=API_PREFIX)
    return app


def app_from_env() -> FastAPI:
    """The edge: settings from the environment (a uvicorn ``--factory``)."""
    return create_app(DrsEnvSettings().to_settings())
