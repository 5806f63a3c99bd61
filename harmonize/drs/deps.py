"""Shared FastAPI dependencies: settings, registry, caller's token, links and the read model."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from harmonize.drs.config import DrsSettings
from harmonize.drs.http_errors import DrsHTTPError
from harmonize.drs.links import Links
from harmonize.drs.registry import Registry
from harmonize.drs.service import DrsObjects
from harmonize.drs.specs import OBJECT_ID

_bearer = HTTPBearer(
    auto_error=False,
    description="Opens controlled objects (a static token for now; JWT/Passports later).",
)


def get_settings(request: Request) -> DrsSettings:
    settings: DrsSettings = request.app.state.settings
    return settings


def get_registry(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


SettingsDep = Annotated[DrsSettings, Depends(get_settings)]
RegistryDep = Annotated[Registry, Depends(get_registry)]


def get_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str | None:
    """The bearer token the caller sent, if any."""
    return credentials.credentials if credentials is not None else None


def get_links(request: Request, settings: SettingsDep) -> Links:
    """drs:// host and base URL: from settings, else from the request itself."""
    return Links(
        host=settings.hostname or request.url.netloc,
        base_url=settings.public_url or str(request.base_url),
    )


TokenDep = Annotated[str | None, Depends(get_token)]
LinksDep = Annotated[Links, Depends(get_links)]


def get_objects(
    registry: RegistryDep, settings: SettingsDep, links: LinksDep, token: TokenDep
) -> DrsObjects:
    return DrsObjects(registry, settings, links, token)


def valid_object_id(
    object_id: Annotated[str, Path(description="A DRS object id ([A-Za-z0-9._~:-]+)")],
) -> str:
    """Reject ids outside the safe alphabet before they reach anything else."""
    if not OBJECT_ID.match(object_id):
        raise DrsHTTPError(400, f"invalid DRS object id {object_id!r}")
    return object_id


ObjectsDep = Annotated[DrsObjects, Depends(get_objects)]
ObjectIdDep = Annotated[str, Depends(valid_object_id)]
