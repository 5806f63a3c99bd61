"""What the publish stage hands to the registry: one spec per file, one per bundle
(a :class:`BundleSpec` listing its members, or a :class:`BundleHeader` for a streamed bundle).

Specs are checked when built, so a bad one fails in the caller, not half-way through
a registration.

>>> spec = ObjectSpec(id="hzabc", name="cases.parquet", path="published/s1/cases.parquet",
...                   size=3, sha256="ab" * 32, mime_type="application/vnd.apache.parquet",
...                   submission_id="s1", dataset="demo", access="public", role="published")
>>> spec.version is None, spec.aliases
(True, ())
>>> ObjectSpec(id="x", name="a", path="../etc/passwd", size=1, sha256="ab" * 32,
...            mime_type="text/plain", submission_id="s1", dataset="d", access="public",
...            role="input")
Traceback (most recent call last):
...
ValueError: object x: path must be relative and stay inside the workspace: '../etc/passwd'
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from harmonize.drs.models import ACCESS_VALUES, ROLE_VALUES, Access, Role

OBJECT_ID = re.compile(r"^[A-Za-z0-9._~:-]+$")
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def _now() -> datetime:
    return datetime.now(UTC)


def _check_common(kind: str, id: str, access: str, created_time: datetime) -> None:
    if not OBJECT_ID.match(id) or len(id) > 128:
        raise ValueError(f"{kind} id {id!r} must match {OBJECT_ID.pattern} (at most 128 chars)")
    if access not in ACCESS_VALUES:
        raise ValueError(f"{kind} {id}: access must be one of {ACCESS_VALUES}, not {access!r}")
    if created_time.tzinfo is None:
        raise ValueError(f"{kind} {id}: created_time must be timezone-aware")


@dataclass(frozen=True, slots=True)
class ObjectSpec:
    """One file to register; ``path`` is relative to the workspace root (POSIX form)."""

    id: str
    name: str
    path: str
    size: int
    sha256: str
    mime_type: str
    submission_id: str
    dataset: str
    access: Access
    role: Role
    description: str | None = None
    created_time: datetime = field(default_factory=_now)
    aliases: Sequence[str] = ()
    version: str | None = None  # default: the sha-256
    consent: Sequence[str] | None = None  # DUO codes the data may be used under

    def __post_init__(self) -> None:
        _check_common("object", self.id, self.access, self.created_time)
        if self.role not in ROLE_VALUES:
            raise ValueError(f"object {self.id}: role must be one of {ROLE_VALUES}")
        if self.size < 0:
            raise ValueError(f"object {self.id}: negative size {self.size}")
        if not SHA256_HEX.match(self.sha256):
            raise ValueError(f"object {self.id}: sha256 must be 64 lowercase hex characters")
        posix = os.fspath(self.path).replace("\\", "/")
        parts = posix.split("/")
        if posix.startswith("/") or ".." in parts or not posix.strip("./"):
            raise ValueError(
                f"object {self.id}: path must be relative and stay inside the workspace: "
                f"{self.path!r}"
            )
        object.__setattr__(self, "path", posix)
        object.__setattr__(self, "aliases", tuple(self.aliases))


@dataclass(frozen=True, slots=True)
class BundleHeader:
    """A bundle without its member list, for :meth:`Registry.register_stream`: the members
    are the objects streamed alongside it."""

    id: str
    name: str
    submission_id: str
    dataset: str
    access: Access
    description: str | None = None
    created_time: datetime = field(default_factory=_now)
    aliases: Sequence[str] = ()
    version: str | None = None  # default: the checksum
    consent: Sequence[str] | None = None

    def __post_init__(self) -> None:
        _check_common("bundle", self.id, self.access, self.created_time)
        object.__setattr__(self, "aliases", tuple(self.aliases))


@dataclass(frozen=True, slots=True)
class BundleSpec:
    """A submission's bundle; its members must be registered before or alongside it."""

    id: str
    name: str
    submission_id: str
    dataset: str
    access: Access
    member_ids: Sequence[str]
    description: str | None = None
    created_time: datetime = field(default_factory=_now)
    aliases: Sequence[str] = ()

    def __post_init__(self) -> None:
        _check_common("bundle", self.id, self.access, self.created_time)
        members = tuple(self.member_ids)
        if len(set(members)) != len(members):
            raise ValueError(f"bundle {self.id}: duplicate member ids")
        if self.id in members:
            raise ValueError(f"bundle {self.id}: a bundle cannot contain itself")
        object.__setattr__(self, "member_ids", members)
        object.__setattr__(self, "aliases", tuple(self.aliases))
