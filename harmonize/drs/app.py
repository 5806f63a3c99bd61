"""The DRS service: ``create_app(settings)`` serves the GA4GH DRS 1.5.0 read API.

Run it with uvicorn, settings read from ``HARMONIZE_DRS_*`` variables::

    uvicorn harmonize.drs.app:app_from_env --factory --port 8080
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from harmonize import __version__
from harmonize.drs.auth import Authority
from harmonize.drs.config import DrsEnvSettings, DrsSettings
from harmonize.drs.fastlookup import FastLookup, FastPath
from harmonize.drs.http_errors import install_error_handlers
from harmonize.drs.limits import BodyLimit, NoEncodedSlash
from harmonize.drs.links import API_PREFIX
from harmonize.drs.registry import Registry
from harmonize.drs.routes import (
    access,
    admin,
    authorizations,
    download,
    objects,
    service_info,
    withdrawals,
)
from harmonize.drs.signing import UrlSigner
from harmonize.drs.stores import S3Store
from harmonize.settings import Settings


def create_app(
    settings: DrsSettings,
    *,
    registry: Registry | None = None,
    pipeline: Settings | None = None,
    fast_lookups: bool = True,
) -> FastAPI:
    """A FastAPI app for ``settings``; pass ``registry`` to share one (it is then not disposed).

    ``fast_lookups`` answers anonymous lookups of public blobs outside FastAPI
    (:mod:`harmonize.drs.fastlookup`: same answers, a fraction of the work); off, every
    request goes through the routes.

    ``pipeline`` is where the admin API's withdrawals act (the warehouse, the landing store);
    by default the service's own workspace and registry. Its registry must be the service's.
    """
    pipeline = pipeline or Settings(
        workspace=settings.workspace, registry_url=settings.registry_url
    )
    if pipeline.registry != settings.registry_url:
        raise ValueError(
            f"the pipeline's registry {pipeline.registry!r} is not the DRS service's "
            f"{settings.registry_url!r}: withdrawals would change another registry"
        )
    owned = registry is None
    active = registry if registry is not None else Registry(settings.registry_url)
    active.create_all()
    s3_store = S3Store(settings.s3) if settings.s3 is not None else None
    fast = FastPath(settings, active, s3_store) if fast_lookups else None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if fast is not None:
            fast.close()
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
    app.state.pipeline = pipeline
    app.state.registry = active
    app.state.authority = Authority(settings.auth)
    key = settings.auth.url_signing_key
    app.state.url_signer = UrlSigner(
        key.get_secret_value().encode() if key is not None else None,
        ttl=settings.auth.signed_url_ttl_seconds,
    )
    app.state.s3_store = s3_store
    app.state.fast_lookups = fast
    install_error_handlers(app)
    # access before objects: POST /objects/access must not match /objects/{object_id}
    for module in (service_info, access, authorizations, objects, download):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(admin.router, prefix=admin.PREFIX)
    app.include_router(withdrawals.router, prefix=admin.PREFIX)
    guarded = (API_PREFIX, admin.PREFIX)  # features mounted beside DRS keep their own limits
    app.add_middleware(BodyLimit, limit=settings.max_request_bytes, prefixes=guarded)
    app.add_middleware(NoEncodedSlash, prefixes=guarded)
    if fast is not None:  # outermost: it sees the request before anything else
        app.add_middleware(FastLookup, fast=fast)
    return app


def app_from_env() -> FastAPI:
    """The edge: settings from the environment (a uvicorn ``--factory``)."""
    return create_app(DrsEnvSettings().to_settings())
