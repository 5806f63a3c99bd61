"""GET/HEAD /objects/{object_id}/download: the bytes behind the https access method.

Not part of the DRS specification: it is where our access URLs point. Files are
streamed by Starlette's FileResponse, which also answers Range requests. Only files
that resolve inside the workspace are served. A URL signed by the service
(``?expires=&signature=``, see :mod:`harmonize.drs.signing`) needs no other credential
until it expires; without one the usual access rules apply.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from harmonize.drs.deps import ObjectIdDep, ObjectsDep
from harmonize.drs.http_errors import DrsHTTPError

router = APIRouter(prefix="/objects", tags=["Download"])


@router.get("/{object_id}/download", response_class=FileResponse, operation_id="DownloadObject")
@router.head(
    "/{object_id}/download", response_class=FileResponse, operation_id="HeadDownloadObject"
)
def download(
    object_id: ObjectIdDep,
    objects: ObjectsDep,
    expires: Annotated[int | None, Query(ge=0)] = None,
    signature: Annotated[str | None, Query(max_length=64)] = None,
) -> FileResponse:
    """The object's bytes, with its mime type, size and sha-256 as a strong ETag."""
    if expires is not None or signature is not None:
        row = objects.signed_lookup(object_id, expires or 0, signature or "")
    else:
        row = objects.lookup(object_id)
    path = objects.local_file(row)
    stat = path.stat()
    if stat.st_size != row.size:
        raise DrsHTTPError(
            500, f"the stored bytes of DRS object {row.id} changed since publication"
        )
    return FileResponse(
        path,
        media_type=row.mime_type or "application/octet-stream",
        filename=row.name,
        stat_result=stat,
        headers={"ETag": f'"{row.sha256}"'},
    )
