"""Request and response bodies of the GA4GH DRS 1.5.0 API (pydantic models).

Field names follow the specification exactly. Responses are serialised without the
fields that are None, because the specification's optional fields are never ``null``.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class Error(BaseModel):
    """The specification's error body."""

    msg: str
    status_code: int


class Checksum(BaseModel):
    checksum: str
    type: str = "sha-256"


class AccessURL(BaseModel):
    url: str
    headers: list[str] | None = None


class AccessMethod(BaseModel):
    type: str
    access_id: str | None = None
    access_url: AccessURL | None = None
    region: str | None = None


class ContentsObject(BaseModel):
    name: str
    id: str | None = None
    drs_uri: list[str] | None = None
    contents: list[ContentsObject] | None = None


class DrsObject(BaseModel):
    id: str
    name: str | None = None
    self_uri: str
    size: int
    created_time: str
    updated_time: str | None = None
    version: str | None = None
    mime_type: str | None = None
    checksums: list[Checksum] = Field(min_length=1)
    access_methods: list[AccessMethod] | None = None
    contents: list[ContentsObject] | None = None
    description: str | None = None
    aliases: list[str] | None = None


class Summary(BaseModel):
    requested: int
    resolved: int
    unresolved: int


class Unresolved(BaseModel):
    error_code: int
    object_ids: list[str]


class BulkObjects(BaseModel):
    summary: Summary
    unresolved_drs_objects: list[Unresolved]
    resolved_drs_object: list[DrsObject]


class BulkAccessURL(BaseModel):
    drs_object_id: str
    drs_access_id: str
    url: str
    headers: list[str] | None = None


class BulkAccessURLs(BaseModel):
    summary: Summary
    unresolved_drs_objects: list[Unresolved]
    resolved_drs_object_access_urls: list[BulkAccessURL]


class ServiceType(BaseModel):
    group: str = "org.ga4gh"
    artifact: str = "drs"
    version: str = "1.5.0"


class Organization(BaseModel):
    name: str
    url: str


class DrsSection(BaseModel):
    maxBulkRequestLength: int  # camelCase: the specification's spelling
    objectCount: int
    totalObjectSize: int


class ServiceInfo(BaseModel):
    id: str
    name: str
    type: ServiceType
    description: str
    organization: Organization
    version: str
    maxBulkRequestLength: int  # deprecated top-level copy, required by 1.5.0
    drs: DrsSection


class Passports(BaseModel):
    """Body of the POST variants; passports are accepted and not yet checked."""

    passports: list[str] | None = None


class ObjectRequest(Passports):
    expand: bool | None = None


class BulkObjectsRequest(Passports):
    bulk_object_ids: list[str]


class ObjectAccessIds(BaseModel):
    bulk_object_id: str
    bulk_access_ids: list[str] = Field(min_length=1)


class BulkAccessRequest(Passports):
    bulk_object_access_ids: list[ObjectAccessIds]
