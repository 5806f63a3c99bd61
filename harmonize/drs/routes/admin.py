"""The registration API (not part of DRS): ``/admin/drs/v1``, behind the admin token.

POST /objects registers files (and a bundle of them), with their DUO ``consent``; GET
/objects/{id} reads an object's registry record (access, consent, lifecycle); PATCH
/objects/{id} changes their descriptive metadata; DELETE /objects/{id} tombstones an object. Without a configured
``auth.admin_token`` every call answers 403.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from harmonize.drs import admin
from harmonize.drs.deps import ObjectIdDep, ObjectsDep, SettingsDep
from harmonize.drs.http_errors import DrsHTTPError
from harmonize.drs.schemas import DrsObject, Error

PREFIX = "/admin/drs/v1"

_admin_bearer = HTTPBearer(auto_error=False, description="The service's admin token.")


def require_admin(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_admin_bearer)],
) -> None:
    """401 without the admin token, 403 when the admin API is not configured."""
    expected = settings.auth.admin_token
    if expected is None:
        raise DrsHTTPError(403, "the registration API is disabled: no admin token is configured")
    given = credentials.credentials if credentials is not None else ""
    if not hmac.compare_digest(given.encode(), expected.get_secret_value().encode()):
        raise DrsHTTPError(
            401, "send the admin token as a bearer token", {"WWW-Authenticate": "Bearer"}
        )


# what every route may answer besides its success (the spec's error body)
ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": Error, "description": "a malformed request, or files that do not match it"},
    401: {"model": Error, "description": "no valid admin token"},
    403: {"model": Error, "description": "the registration API is disabled"},
    404: {"model": Error, "description": "no such object, or it was deleted"},
    409: {"model": Error, "description": "the id is taken by another file, or was deleted"},
    413: {"model": Error, "description": "the request body is over the service's limit"},
}

router = APIRouter(
    prefix="/objects", tags=["Admin"], dependencies=[Depends(require_admin)], responses=ERRORS
)


@router.post("", response_model=admin.Registered, status_code=201)
def register(body: admin.RegisterRequest, objects: ObjectsDep) -> admin.Registered:
    """Register files (checked against their stored bytes) and optionally their bundle."""
    try:
        return admin.register(objects.registry, objects.root, body, objects.s3)
    except admin.AdminError as exc:
        raise DrsHTTPError(exc.status, exc.msg) from exc


@router.patch("/{object_id}", response_model=DrsObject, response_model_exclude_none=True)
def update(object_id: ObjectIdDep, body: admin.MetadataPatch, objects: ObjectsDep) -> DrsObject:
    """Change name, description, mime type or aliases; answers the updated object."""
    try:
        row = admin.update(objects.registry, object_id, body)
    except admin.AdminError as exc:
        raise DrsHTTPError(exc.status, exc.msg) from exc
    return objects.describe(row)


@router.delete("/{object_id}", response_model=admin.Deleted)
def delete(object_id: ObjectIdDep, objects: ObjectsDep) -> admin.Deleted:
    """Tombstone: the id then resolves as deleted (404) and is never registered again."""
    try:
        return admin.tombstone(objects.registry, object_id)
    except admin.AdminError as exc:
        raise DrsHTTPError(exc.status, exc.msg) from exc


@router.get("/{object_id}", response_model=admin.AdminObject)
def read(object_id: ObjectIdDep, objects: ObjectsDep) -> admin.AdminObject:
    """The registry's record of an object or bundle, consent included (deleted ones too)."""
    try:
        return admin.read(objects.registry, object_id)
    except admin.AdminError as exc:
        raise DrsHTTPError(exc.status, exc.msg) from exc
