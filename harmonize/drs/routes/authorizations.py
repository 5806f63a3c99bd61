"""OPTIONS /objects/{object_id} and OPTIONS /objects: how to authorize each object.

Public objects answer ``None``; controlled objects, and ids that are not registered (so
an answer never tells whether a controlled object exists), answer ``BearerAuth`` and
``PassportAuth`` with the trusted token and visa issuers.
"""

from __future__ import annotations

from collections import defaultdict

from fastapi import APIRouter

from harmonize.drs.deps import ObjectIdDep, ObjectsDep
from harmonize.drs.http_errors import DrsHTTPError
from harmonize.drs.models import DrsObjectRow
from harmonize.drs.schemas import (
    Authorizations,
    BulkAuthorizations,
    BulkObjectIdNoPassport,
    Summary,
    Unresolved,
)
from harmonize.drs.service import DrsObjects
from harmonize.drs.specs import OBJECT_ID

router = APIRouter(prefix="/objects", tags=["Objects"])


def authorizations(objects: DrsObjects, object_id: str, row: DrsObjectRow | None) -> Authorizations:
    if row is not None and row.access == "public":
        return Authorizations(drs_object_id=object_id, supported_types=["None"])
    return Authorizations(
        drs_object_id=object_id,
        supported_types=["BearerAuth", "PassportAuth"],
        bearer_auth_issuers=list(objects.authority.tokens.issuers),
        passport_auth_issuers=list(objects.authority.visas.issuers),
    )


@router.options(
    "/{object_id}",
    response_model=Authorizations,
    response_model_exclude_none=True,
    operation_id="OptionsObject",
)
def options_object(object_id: ObjectIdDep, objects: ObjectsDep) -> Authorizations:
    """The authorization types (and issuers) that open this object."""
    return authorizations(objects, object_id, objects.registry.get(object_id))


@router.options(
    "",
    response_model=BulkAuthorizations,
    response_model_exclude_none=True,
    operation_id="OptionsBulkObject",
)
def options_bulk(body: BulkObjectIdNoPassport, objects: ObjectsDep) -> BulkAuthorizations:
    """Authorizations of several objects; malformed ids are unresolved (400)."""
    ids = list(dict.fromkeys(body.bulk_object_ids))
    limit = objects.settings.max_bulk_request_length
    if len(body.bulk_object_ids) > limit:
        raise DrsHTTPError(413, f"{len(body.bulk_object_ids)} ids requested; at most {limit}")
    valid = [object_id for object_id in ids if OBJECT_ID.match(object_id)]
    rows = objects.registry.get_many(valid)
    failed: dict[int, list[str]] = defaultdict(list)
    resolved = []
    for object_id in ids:
        if OBJECT_ID.match(object_id):
            resolved.append(authorizations(objects, object_id, rows.get(object_id)))
        else:
            failed[400].append(object_id)
    return BulkAuthorizations(
        summary=Summary(requested=len(ids), resolved=len(resolved), unresolved=len(failed[400])),
        unresolved_drs_objects=[
            Unresolved(error_code=code, object_ids=found) for code, found in sorted(failed.items())
        ],
        resolved_drs_object=resolved,
    )
