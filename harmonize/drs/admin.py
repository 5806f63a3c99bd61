"""Registration outside the DRS specification: register, update metadata, tombstone.

The admin API (:mod:`harmonize.drs.routes.admin`) and the publish stage share one code
path: :meth:`Registry.register_stream` for a bundle and its members (as
:func:`harmonize.publish.commit.apply_journal`), :meth:`Registry.register` for loose
files, :meth:`Registry.mark_deleted` for tombstones. Ids default to the pipeline's
deterministic :func:`~harmonize.drs.ids.drs_id` of (submission, path, sha-256).

Before anything is written, each file is checked where it is stored: inside the
workspace, with the declared size and a sha-256 re-computed over its bytes (or, on S3,
with the declared size). A tombstoned id is never registered again.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from harmonize.drs.ids import bundle_id, drs_id
from harmonize.drs.models import Access, DrsObjectRow, Role
from harmonize.drs.registry import BundleHeader, ObjectSpec, Registry
from harmonize.drs.render import inside
from harmonize.drs.stores import S3Store
from harmonize.warehouse.files import file_digest

SHA256_PATTERN = r"^[0-9a-f]{64}$"
ID_PATTERN = r"^[A-Za-z0-9._~-]{1,128}$"


class AdminError(Exception):
    """A registration request that cannot be honoured; ``status`` is the HTTP answer."""

    def __init__(self, status: int, msg: str) -> None:
        super().__init__(msg)
        self.status = status
        self.msg = msg


def _duo_codes(codes: list[str] | None) -> list[str] | None:
    """Consent codes must be DUO permissions or modifiers (Harmonize's code list)."""
    from harmonize.consent import DataUse

    data_use = DataUse()
    for code in codes or ():
        problem = data_use.problem(code)
        if problem is not None:
            raise ValueError(f"consent code {code!r} {problem}")
    return None if codes is None else list(dict.fromkeys(codes))


Consent = list[str] | None


class ObjectIn(BaseModel):
    """One file to register (a path relative to the workspace or the bucket prefix)."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(default=None, pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=255)
    path: str = Field(min_length=1, max_length=1024)
    size: int = Field(ge=0)
    sha256: str = Field(pattern=SHA256_PATTERN)
    mime_type: str = Field(default="application/octet-stream", max_length=255)
    submission_id: str = Field(min_length=1, max_length=255)
    dataset: str = Field(min_length=1, max_length=255)
    access: Access
    role: Role = "published"
    description: str | None = Field(default=None, max_length=4096)
    aliases: list[str] = Field(default_factory=list, max_length=32)
    version: str | None = Field(default=None, max_length=128)
    consent: Consent = Field(default=None, max_length=64)  # DUO codes the data may be used under

    _consent = field_validator("consent")(_duo_codes)


class BundleIn(BaseModel):
    """A bundle whose members are exactly the request's objects."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(default=None, pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=255)
    submission_id: str = Field(min_length=1, max_length=255)
    dataset: str = Field(min_length=1, max_length=255)
    access: Access
    description: str | None = Field(default=None, max_length=4096)
    aliases: list[str] = Field(default_factory=list, max_length=32)
    consent: Consent = Field(default=None, max_length=64)

    _consent = field_validator("consent")(_duo_codes)


class RegisterRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    objects: list[ObjectIn] = Field(min_length=1, max_length=10_000)
    bundle: BundleIn | None = None


class Registered(BaseModel):
    object_ids: list[str]
    bundle_id: str | None = None


class MetadataPatch(BaseModel):
    """Descriptive fields only; bytes, checksums, paths and access never change."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=4096)
    mime_type: str | None = Field(default=None, min_length=1, max_length=255)
    aliases: list[str] | None = Field(default=None, max_length=32)


class Deleted(BaseModel):
    id: str
    deleted: bool = True


class AdminObject(BaseModel):
    """The registry's record of an object or bundle, as the admin API reads it back: what
    the DRS read API does not show (access, consent, lifecycle), without the bytes' URLs."""

    id: str
    name: str
    is_bundle: bool
    submission_id: str
    dataset: str
    access: str
    role: str | None
    version: str | None
    size: int
    sha256: str
    path: str | None
    created_time: datetime
    deleted: bool
    tombstone: str | None
    superseded_by: str | None
    consent: list[str] | None  # DUO codes; None: none recorded

    @classmethod
    def of(cls, row: DrsObjectRow) -> AdminObject:
        return cls.model_validate({name: getattr(row, name) for name in cls.model_fields})


def read(registry: Registry, object_id: str) -> AdminObject:
    """The record of ``object_id`` (deleted ones too, flagged); 404 for an unknown id."""
    row = registry.get(object_id)
    if row is None:
        raise AdminError(404, f"no DRS object with id {object_id}")
    return AdminObject.of(row)


def to_spec(item: ObjectIn, created: datetime) -> ObjectSpec:
    try:
        return ObjectSpec(
            id=item.id or drs_id(item.submission_id, item.path, item.sha256),
            name=item.name,
            path=item.path,
            size=item.size,
            sha256=item.sha256,
            mime_type=item.mime_type,
            submission_id=item.submission_id,
            dataset=item.dataset,
            access=item.access,
            role=item.role,
            description=item.description,
            created_time=created,
            aliases=tuple(item.aliases),
            version=item.version,
            consent=item.consent,
        )
    except ValueError as exc:
        raise AdminError(400, str(exc)) from exc


def verify_local(root: Path, spec: ObjectSpec) -> None:
    """The file is inside ``root`` with the declared size and sha-256."""
    lexical = inside(root, spec.path)
    real = lexical.resolve() if lexical is not None else None
    if real is None or not real.is_relative_to(root) or not real.is_file():
        raise AdminError(400, f"object {spec.id}: no file at {spec.path!r} in the workspace")
    if real.stat().st_size != spec.size:
        raise AdminError(400, f"object {spec.id}: {spec.path!r} is not {spec.size} bytes")
    if file_digest(real)[1] != spec.sha256:
        raise AdminError(400, f"object {spec.id}: the sha-256 of {spec.path!r} differs")


def _check_existing(registry: Registry, specs: list[ObjectSpec], bundle: str | None) -> None:
    """Tombstoned ids are never reused; a live id must be registered with the same file."""
    ids = [spec.id for spec in specs] + ([bundle] if bundle else [])
    rows = registry.get_many(ids)
    for spec in specs:
        row = rows.get(spec.id)
        if row is None:
            continue
        if row.deleted:
            raise AdminError(409, f"DRS id {spec.id} was deleted; deleted ids are never reused")
        if (row.sha256, row.size, row.path, row.access, row.dataset) != (
            spec.sha256,
            spec.size,
            spec.path,
            spec.access,
            spec.dataset,
        ):
            raise AdminError(409, f"DRS id {spec.id} is registered with another file")
    if bundle and bundle in rows and rows[bundle].deleted:
        raise AdminError(409, f"DRS id {bundle} was deleted; deleted ids are never reused")


def register(
    registry: Registry, root: Path, request: RegisterRequest, s3: S3Store | None = None
) -> Registered:
    """Verify the files, then register them (and their bundle) in one transaction."""
    created = datetime.now(UTC)
    specs = [to_spec(item, created) for item in request.objects]
    if len({spec.id for spec in specs}) != len(specs):
        raise AdminError(400, "two objects of the request share a DRS id")
    for spec in specs:
        if s3 is None:
            verify_local(root, spec)
        elif s3.size(spec.path) != spec.size:
            raise AdminError(400, f"object {spec.id}: no {spec.size}-byte object at {spec.path}")
    header = None
    if request.bundle is not None:
        b = request.bundle
        members = hashlib.sha256("\n".join(sorted(s.id for s in specs)).encode()).hexdigest()
        header = BundleHeader(
            id=b.id or bundle_id(b.submission_id, members),
            name=b.name,
            submission_id=b.submission_id,
            dataset=b.dataset,
            access=b.access,
            description=b.description,
            created_time=created,
            aliases=tuple(b.aliases),
            consent=b.consent,
        )
        if header.id in {spec.id for spec in specs}:
            raise AdminError(400, "a bundle cannot contain itself")
    _check_existing(registry, specs, header.id if header else None)
    try:
        if header is not None:
            registry.register_stream(iter(specs), header)
        else:
            registry.register(specs)
    except ValueError as exc:
        raise AdminError(409, str(exc)) from exc
    return Registered(
        object_ids=[spec.id for spec in specs], bundle_id=header.id if header else None
    )


def update(registry: Registry, object_id: str, patch: MetadataPatch) -> DrsObjectRow:
    """Apply the fields set in ``patch``; 404 for an unknown or deleted id."""
    changes = patch.model_dump(exclude_unset=True)
    if any(
        changes.get(name) is None for name in ("name", "mime_type", "aliases") if name in changes
    ):
        raise AdminError(400, "name, mime_type and aliases cannot be null")
    row = registry.get(object_id)
    if row is None:
        raise AdminError(404, f"no DRS object with id {object_id}")
    if row.deleted:
        raise AdminError(404, f"DRS object {object_id} was deleted")
    if not changes:
        return row
    updated = registry.update_metadata(object_id, changes)
    if updated is None:
        raise AdminError(404, f"DRS object {object_id} was deleted")
    return updated


def tombstone(registry: Registry, object_id: str) -> Deleted:
    """Mark deleted (idempotent); the id keeps resolving, as deleted, and is never reused."""
    if registry.get(object_id) is None:
        raise AdminError(404, f"no DRS object with id {object_id}")
    registry.mark_deleted([object_id])
    return Deleted(id=object_id)
