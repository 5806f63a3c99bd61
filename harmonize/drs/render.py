"""Registry rows as DRS 1.5.0 JSON: objects, bundles and their contents.

>>> from datetime import datetime, timezone, timedelta
>>> rfc3339(datetime(2024, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2))))
'2024-05-01T12:00:00Z'
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from harmonize.drs.links import Links
from harmonize.drs.models import DrsObjectRow
from harmonize.drs.schemas import AccessMethod, AccessURL, Checksum, ContentsObject, DrsObject
from harmonize.drs.stores import S3_ACCESS_ID, S3Store

HTTPS_ACCESS_ID = "https"


def rfc3339(moment: datetime) -> str:
    """UTC, ``Z`` suffix, fractional seconds only when there are any."""
    utc = moment.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond:06d}"
    return text + "Z"


def inside(root: Path, relative: str) -> Path | None:
    """``root / relative`` normalised without touching the disk, or None if it leaves root."""
    candidate = Path(os.path.normpath(root / relative))
    return candidate if candidate.is_relative_to(root) and candidate != root else None


def access_methods(row: DrsObjectRow, root: Path, *, expose_files: bool) -> list[AccessMethod]:
    """https through the access route, and file:// when enabled and inside the workspace."""
    methods = [AccessMethod(type="https", access_id=HTTPS_ACCESS_ID)]
    local = inside(root, row.path) if expose_files and row.path else None
    if local is not None:
        methods.append(AccessMethod(type="file", access_url=AccessURL(url=local.as_uri())))
    return methods


def describe_blob(
    row: DrsObjectRow, links: Links, root: Path, *, expose_files: bool, s3: S3Store | None
) -> DrsObject:
    """The DrsObject of a blob (not a bundle): its bytes from the bucket when ``s3`` is set,
    else through the download route (and file:// when ``expose_files``)."""
    if s3 is not None:
        methods = [AccessMethod(type="s3", access_id=S3_ACCESS_ID, region=s3.settings.region)]
    else:
        methods = access_methods(row, root, expose_files=expose_files)
    return drs_object(row, links, methods=methods)


def blob_json(model: DrsObject) -> bytes:
    """The JSON the routes send for a DrsObject (by alias, without nulls)."""
    return model.model_dump_json(by_alias=True, exclude_none=True).encode()


def drs_object(
    row: DrsObjectRow,
    links: Links,
    *,
    methods: list[AccessMethod] | None = None,
    contents: list[ContentsObject] | None = None,
) -> DrsObject:
    """One DrsObject; bundles get ``contents`` and no access methods.

    An object of a superseded submission version keeps its bytes and checksum; it says so
    in its description and with an alias ``superseded-by:<drs URI of the newer bundle>``.
    """
    aliases = list(row.aliases or [])
    description = row.description
    if row.superseded_by:
        newer = links.self_uri(row.superseded_by)
        aliases.append(f"superseded-by:{newer}")
        description = f"{description or ''} (superseded by {newer})".strip()
    return DrsObject(
        id=row.id,
        name=row.name,
        self_uri=links.self_uri(row.id),
        size=row.size,
        created_time=rfc3339(row.created_time),
        updated_time=rfc3339(row.updated_time),
        version=row.version,
        mime_type=row.mime_type,
        checksums=[Checksum(checksum=row.sha256, type="sha-256")],
        access_methods=None if row.is_bundle else methods,
        contents=(contents or []) if row.is_bundle else None,
        description=description,
        aliases=aliases,
    )


def contents_object(
    member_id: str, name: str, links: Links, nested: list[ContentsObject] | None = None
) -> ContentsObject:
    """One entry of a bundle's contents."""
    return ContentsObject(
        name=name, id=member_id, drs_uri=links.drs_uris(member_id), contents=nested
    )
