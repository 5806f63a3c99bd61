"""Request and response bodies of the GA4GH DRS 1.5.0 API (pydantic models).

Field names follow the specification exactly. Responses are serialised without the
fields that are None, because the specification's optional fields are never ``null``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


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


class Authorizations(BaseModel):
    """How to authorize requests for one object (the OPTIONS answer)."""

    drs_object_id: str
    supported_types: list[str]
    passport_auth_issuers: list[str] | None = None
    bearer_auth_issuers: list[str] | None = None


class BulkAuthorizations(BaseModel):
    summary: Summary
    unresolved_drs_objects: list[Unresolved]
    resolved_drs_object: list[Authorizations]


class BulkObjectIdNoPassport(BaseModel):
    model_config = ConfigDict(strict=True)

    bulk_object_ids: list[str] = Field(default_factory=list)


class Passports(BaseModel):
    """Body of the POST variants: GA4GH Passports (JWTs) that may open controlled objects.

    Request bodies are validated strictly: ``"true"`` is not a boolean, ``null`` not a list.
    """

    model_config = ConfigDict(strict=True)

    passports: list[str] = Field(default_factory=list, max_length=64)


class ObjectRequest(Passports):
    expand: bool = False


class BulkObjectsRequest(Passports):
    bulk_object_ids: list[str]


class ObjectAccessIds(BaseModel):
    model_config = ConfigDict(strict=True)

    bulk_object_id: str
    bulk_access_ids: list[str] = Field(min_length=1)


class BulkAccessRequest(Passports):
    bulk_object_access_ids: list[ObjectAccessIds]
