"""DRS objects: GET/POST /objects/{object_id} and bulk POST /objects."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Response

from harmonize.drs.deps import ObjectIdDep, ObjectsDep
from harmonize.drs.schemas import BulkObjects, BulkObjectsRequest, DrsObject, ObjectRequest

router = APIRouter(prefix="/objects", tags=["Objects"])


@router.get("/{object_id}", response_model=DrsObject, response_model_exclude_none=True)
def get_object(object_id: ObjectIdDep, objects: ObjectsDep, expand: bool = False) -> Response:
    """One object or bundle; ``expand=true`` nests the contents of nested bundles."""
    # the JSON FastAPI would write for the response model, without validating it again
    body = objects.describe_json(objects.lookup(object_id), expand=expand)
    return Response(body, media_type="application/json")


@router.post("/{object_id}", response_model=DrsObject, response_model_exclude_none=True)
def post_object(
    object_id: ObjectIdDep,
    objects: ObjectsDep,
    body: Annotated[ObjectRequest, Body()],
    expand: bool = False,
) -> DrsObject:
    """As GET, with passports in the body that may open a controlled object (the
    specification requires a body; ``{}`` is the empty one)."""
    expand = expand or body.expand
    objects.use_passports(body.passports)
    return objects.describe(objects.lookup(object_id), expand=expand)


@router.post("", response_model=BulkObjects, response_model_exclude_none=True)
def bulk_objects(
    body: BulkObjectsRequest, objects: ObjectsDep, expand: bool = False
) -> BulkObjects:
    """Several objects; unknown or forbidden ids are listed under their error code."""
    objects.use_passports(body.passports)
    return objects.bulk(body.bulk_object_ids, expand=expand)
