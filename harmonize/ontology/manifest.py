"""The ontology manifest: which releases and code systems Harmonize resolves against.

``ontologies/manifest.yaml`` pins each ontology file by version, source and sha-256,
and lists code systems without a file (OMIM, HGNC, ...), whose ids are checked against a
pinned code list (``codes``, see :mod:`harmonize.ontology.codelists`) or, failing that,
against Bioregistry's id pattern (see :mod:`harmonize.ontology.prefixes`). Older releases
kept for diffs are listed under ``previous_releases``. :func:`load_manifest` reads it and
checks every pinned file's checksum, so a run never uses a release other than the one the
manifest names.

>>> from pathlib import Path
>>> entry = OntologyEntry(prefix="OMIM", name="OMIM", version="unversioned",
...     iri_prefix="https://omim.org/entry/", url="https://www.omim.org", id_pattern=r"^\\d{6}$")
>>> entry.matches_local_id("123456"), entry.matches_local_id("12345")
(True, False)
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from harmonize.errors import OntologyError
from harmonize.ontology.prefixes import fill_from_bioregistry

MANIFEST_NAME = "manifest.yaml"
_HASH_CHUNK = 1 << 20


class OntologyEntry(BaseModel):
    """One ontology release (``file`` set) or code system (``file`` is ``None``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    prefix: str
    name: str
    version: str
    url: str
    iri_prefix: str
    file: str | None = None
    sha256: str | None = None
    source: str | None = None
    slice: bool = False
    id_pattern: str | None = None
    bioregistry: str | None = None
    codes: str | None = None  # the name of a code list the ids must be in

    @field_validator("prefix")
    @classmethod
    def _prefix_shape(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_.]*", value):
            raise ValueError(f"prefix {value!r} is not a CURIE prefix")
        return value

    @field_validator("sha256")
    @classmethod
    def _sha_shape(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[0-9a-f]{64}", value):
            raise ValueError("sha256 must be 64 lowercase hex digits")
        return value

    @field_validator("id_pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as err:
                raise ValueError(f"id_pattern {value!r} is not a regex: {err}") from err
        return value

    @model_validator(mode="after")
    def _file_or_pattern(self) -> OntologyEntry:
        if self.file is not None and (self.sha256 is None or self.source is None):
            raise ValueError(f"{self.prefix}: an entry with a file needs sha256 and source")
        if self.file is None and self.id_pattern is None and self.bioregistry is None:
            raise ValueError(
                f"{self.prefix}: an entry without a file needs bioregistry (or id_pattern)"
            )
        if self.file is not None and self.codes is not None:
            raise ValueError(f"{self.prefix}: an entry has a release file or codes, not both")
        return self

    def matches_local_id(self, local_id: str) -> bool:
        """Whether ``local_id`` (the part after ``PREFIX:``) fits ``id_pattern``."""
        if self.id_pattern is None:
            return True
        return re.fullmatch(self.id_pattern, local_id) is not None


class PinnedFile(BaseModel):
    """A data file stored in the ontologies directory, pinned by sha-256."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    source: str
    file: str
    sha256: str
    copied_from: str | None = None
    licence: str | None = None

    @field_validator("sha256")
    @classmethod
    def _sha_shape(cls, value: str) -> str:
        if not re.fullmatch(r"[0-9a-f]{64}", value):
            raise ValueError("sha256 must be 64 lowercase hex digits")
        return value


class CodeListEntry(PinnedFile):
    """A list of the ids (and names) of one or more code systems, e.g. phenotype.hpoa."""

    name: str
    title: str
    format: Literal["hpoa", "icd10-who-xml"]


class PreviousRelease(PinnedFile):
    """An older release of an ontology, kept for ``harmonize ontologies diff``."""

    prefix: str


class OntologyManifest(BaseModel):
    """Every entry of a manifest, plus the directory its files live in."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    directory: Path
    ontologies: list[OntologyEntry]
    code_lists: list[CodeListEntry] = []
    previous_releases: list[PreviousRelease] = []

    @model_validator(mode="after")
    def _unique_prefixes(self) -> OntologyManifest:
        seen: set[str] = set()
        for entry in self.ontologies:
            if entry.prefix in seen:
                raise ValueError(f"prefix {entry.prefix} is listed twice")
            seen.add(entry.prefix)
        lists = [c.name for c in self.code_lists]
        if len(set(lists)) != len(lists):
            raise ValueError("a code list name is listed twice")
        for entry in self.ontologies:
            if entry.codes is not None and entry.codes not in lists:
                raise ValueError(f"{entry.prefix}: code list {entry.codes!r} is not listed")
        return self

    def code_list(self, name: str) -> CodeListEntry:
        """The code list called ``name`` (the validator made sure it exists)."""
        return next(c for c in self.code_lists if c.name == name)

    def previous(self, prefix: str) -> list[PreviousRelease]:
        """Older releases of ``prefix`` kept in the directory, oldest first."""
        found = [r for r in self.previous_releases if r.prefix == prefix]
        return sorted(found, key=lambda r: r.version)

    def entry(self, prefix: str) -> OntologyEntry:
        """The entry for ``prefix``; :class:`OntologyError` if it is not listed."""
        for entry in self.ontologies:
            if entry.prefix == prefix:
                return entry
        raise OntologyError(
            f"prefix {prefix!r} is not in the ontology manifest",
            file=str(self.directory / MANIFEST_NAME),
            value=prefix,
            hint=f"known prefixes: {', '.join(self.prefixes())}",
        )

    def prefixes(self) -> list[str]:
        """Prefixes in manifest order."""
        return [entry.prefix for entry in self.ontologies]

    def path(self, prefix: str) -> Path | None:
        """The release file for ``prefix``, or ``None`` for a code system without one."""
        entry = self.entry(prefix)
        return None if entry.file is None else self.directory / entry.file


def file_sha256(path: Path) -> str:
    """Hex sha-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def load_manifest(directory: Path, *, verify: bool = True) -> OntologyManifest:
    """Read ``directory/manifest.yaml`` and, unless ``verify`` is false, check checksums.

    Raises :class:`OntologyError` if the manifest is missing or malformed, a listed file
    is missing, or a file's sha-256 differs from the manifest's.
    """
    manifest_path = directory / MANIFEST_NAME
    try:
        raw = yaml.safe_load(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise OntologyError(
            "ontology manifest not found",
            file=str(manifest_path),
            hint="pass the directory that holds manifest.yaml (the repository's ontologies/)",
        ) from err
    except yaml.YAMLError as err:
        raise OntologyError(
            f"ontology manifest is not valid YAML: {err}", file=str(manifest_path)
        ) from err
    if not isinstance(raw, dict):
        raise OntologyError(
            "ontology manifest must be a mapping with an 'ontologies' list",
            file=str(manifest_path),
        )
    raw = {**raw, "ontologies": fill_from_bioregistry(directory, raw.get("ontologies"))}
    try:
        manifest = OntologyManifest.model_validate({**raw, "directory": directory})
    except ValidationError as err:
        raise OntologyError(
            f"ontology manifest is invalid: {err}",
            file=str(manifest_path),
            hint="fix the listed fields",
        ) from err
    if verify:
        for entry in manifest.ontologies:
            _verify_file(directory, entry)
        pinned: list[CodeListEntry | PreviousRelease] = [
            *manifest.code_lists,
            *manifest.previous_releases,
        ]
        for item in pinned:
            _verify_pinned(directory, item)
    return manifest


def _verify_pinned(directory: Path, pinned: CodeListEntry | PreviousRelease) -> None:
    what = pinned.name if isinstance(pinned, CodeListEntry) else f"{pinned.prefix} {pinned.version}"
    _verify(directory, what, pinned.file, pinned.sha256, pinned.version, pinned.source)


def _verify_file(directory: Path, entry: OntologyEntry) -> None:
    if entry.file is None or entry.sha256 is None:
        return
    _verify(directory, entry.prefix, entry.file, entry.sha256, entry.version, entry.source)


def _verify(
    directory: Path, what: str, file: str, sha256: str, version: str, source: str | None
) -> None:
    path = directory / file
    if not path.is_file():
        raise OntologyError(
            f"{what} release file is missing",
            file=str(path),
            hint=f"restore {file} ({source}) or fix the manifest",
        )
    actual = file_sha256(path)
    if actual != sha256:
        raise OntologyError(
            f"{what} release file does not match the manifest: "
            f"expected sha256 {sha256}, got {actual}",
            file=str(path),
            value=actual,
            hint=(
                f"restore the {version} release from {source}, or, if the "
                "file was replaced on purpose, update version, source and sha256 in "
                "manifest.yaml together"
            ),
        )
