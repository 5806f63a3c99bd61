"""Access URLs: GET/POST /objects/{object_id}/access/{access_id} and bulk POST /objects/access."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from harmonize.drs.deps import ObjectIdDep, ObjectsDep
from harmonize.drs.schemas import AccessURL, BulkAccessRequest, BulkAccessURLs, Passports

router = APIRouter(prefix="/objects", tags=["Objects"])


@router.post("/access", response_model=BulkAccessURLs, response_model_exclude_none=True)
def bulk_access(body: BulkAccessRequest, objects: ObjectsDep) -> BulkAccessURLs:
    """Access URLs for several objects at once."""
    objects.use_passports(body.passports)
    return objects.bulk_access(body.bulk_object_access_ids)


@router.get(
    "/{object_id}/access/{access_id}", response_model=AccessURL, response_model_exclude_none=True
)
def get_access_url(object_id: ObjectIdDep, access_id: str, objects: ObjectsDep) -> AccessURL:
    """A URL that fetches the object's bytes: the service's own download route (signed
    and short-lived for controlled objects) or a presigned S3 URL."""
    return objects.access_url(objects.lookup(object_id), access_id)


@router.post(
    "/{object_id}/access/{access_id}", response_model=AccessURL, response_model_exclude_none=True
)
def post_access_url(
    object_id: ObjectIdDep,
    access_id: str,
    objects: ObjectsDep,
    body: Annotated[Passports, Body()],
) -> AccessURL:
    """As GET, with passports in the body that may open a controlled object."""
    objects.use_passports(body.passports)
    return objects.access_url(objects.lookup(object_id), access_id)
