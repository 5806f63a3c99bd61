"""Shared FastAPI dependencies: settings, registry, pipeline settings, caller's token, links and
the read model.

They are ``async def`` because none of them blocks: FastAPI runs a sync dependency in the
thread pool, a hop per dependency per request that cost more than the lookup itself.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from harmonize.drs.auth import Authority
from harmonize.drs.config import DrsSettings
from harmonize.drs.http_errors import DrsHTTPError
from harmonize.drs.links import Links
from harmonize.drs.registry import Registry
from harmonize.drs.service import DrsObjects
from harmonize.drs.signing import UrlSigner
from harmonize.drs.specs import OBJECT_ID
from harmonize.drs.stores import S3Store
from harmonize.drs.uris import local_id
from harmonize.settings import Settings

_bearer = HTTPBearer(
    auto_error=False,
    description="A JWT (RS256/ES256) from a trusted issuer; its GA4GH passport visas open "
    "controlled objects.",
)


async def get_settings(request: Request) -> DrsSettings:
    settings: DrsSettings = request.app.state.settings
    return settings


async def get_registry(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


async def get_pipeline(request: Request) -> Settings:
    """The pipeline's settings: where the admin API's withdrawals act."""
    pipeline: Settings = request.app.state.pipeline
    return pipeline


SettingsDep = Annotated[DrsSettings, Depends(get_settings)]
RegistryDep = Annotated[Registry, Depends(get_registry)]
PipelineDep = Annotated[Settings, Depends(get_pipeline)]


async def get_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str | None:
    """The bearer token the caller sent, if any."""
    return credentials.credentials if credentials is not None else None


async def get_links(request: Request, settings: SettingsDep) -> Links:
    """drs:// host and base URL: from settings, else from the request itself."""
    return Links(
        host=settings.hostname or request.url.netloc,
        base_url=settings.public_url or str(request.base_url),
        compact_prefix=settings.compact_prefix,
    )


TokenDep = Annotated[str | None, Depends(get_token)]
LinksDep = Annotated[Links, Depends(get_links)]


async def get_objects(
    request: Request, registry: RegistryDep, settings: SettingsDep, links: LinksDep, token: TokenDep
) -> DrsObjects:
    state = request.app.state
    authority: Authority = state.authority
    signer: UrlSigner = state.url_signer
    s3: S3Store | None = state.s3_store
    return DrsObjects(registry, settings, links, token, authority=authority, signer=signer, s3=s3)


async def valid_object_id(
    object_id: Annotated[str, Path(description="A DRS object id ([A-Za-z0-9._~:-]+)")],
    settings: SettingsDep,
) -> str:
    """Reject ids outside the safe alphabet before they reach anything else; a compact
    ``prefix:accession`` id of this service's prefix names the object ``accession``."""
    if not OBJECT_ID.match(object_id) or len(object_id) > 255:
        raise DrsHTTPError(400, f"invalid DRS object id {object_id[:64]!r}")
    return local_id(object_id, settings.compact_prefix)


ObjectsDep = Annotated[DrsObjects, Depends(get_objects)]
ObjectIdDep = Annotated[str, Depends(valid_object_id)]
