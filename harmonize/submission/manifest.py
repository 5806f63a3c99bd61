"""The submission manifest: who submits what, under which profile and access terms.

A submission is a directory with ``manifest.yaml`` and its data files::

    submission_id: aire-aps1          # optional: derived from the content hash otherwise
    submitter: Monarch curators
    dataset: phenopacket-store
    profile: hpo-case-template
    access: public                    # public | controlled: required, no default
    consent: [DUO:0000042]            # DUO CURIEs
    files:
      - path: AIRE_APS1_individuals.xlsx
        sha256: 3f5c...               # hex digest of the file's bytes
    mapping: mapping.yaml             # tabular profile: the mapping, relative to the directory
    mapping_sha256: 9a0e...           # optional: the mapping's digest (``submit`` fills it in)

A single data file plus ``--profile`` is a submission too: its manifest is synthesized,
with the data centre's ``Settings.default_access`` (``controlled`` unless it says otherwise).

Manifests fail closed. An unknown key is an error naming the nearest valid one, and
``access`` has no default: a typo such as ``acess: controlled`` must never publish
controlled data as public.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import orjson
import yaml
from pydantic import Field, ValidationError, field_validator

from harmonize.errors import SubmissionError
from harmonize.settings import Access
from harmonize.strict import StrictModel, first_error

MANIFEST_NAME = "manifest.yaml"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_DUO = re.compile(r"^DUO:\d{7}$")


class ManifestFile(StrictModel):
    path: str
    sha256: str | None = None
    sheet: str | None = None
    format: str | None = None  # a reader name, when the extension is not enough

    @field_validator("sha256")
    @classmethod
    def _hex(cls, v: str | None) -> str | None:
        if v is not None and not _SHA256.match(v.lower()):
            raise ValueError("sha256 must be 64 hexadecimal characters")
        return v.lower() if v else v


class Manifest(StrictModel):
    submission_id: str | None = None
    submitter: str = "anonymous"
    dataset: str = "default"
    profile: str
    access: Access  # required: who may read the published objects
    consent: list[str] = Field(default_factory=list)
    mapping: str | None = None  # tabular profile: the mapping YAML, relative to the submission
    mapping_sha256: str | None = None  # when given, the mapping file must have this digest
    files: list[ManifestFile]

    @field_validator("mapping_sha256")
    @classmethod
    def _mapping_hex(cls, v: str | None) -> str | None:
        if v is not None and not _SHA256.match(v.lower()):
            raise ValueError("mapping_sha256 must be 64 hexadecimal characters")
        return v.lower() if v else v

    @field_validator("submission_id", "dataset")
    @classmethod
    def _safe_id(cls, v: str | None) -> str | None:
        if v is not None and not _ID.match(v):
            raise ValueError(
                "use letters, digits, '.', '_' and '-' only (at most 128, starting alphanumeric)"
            )
        return v

    @field_validator("consent")
    @classmethod
    def _duo(cls, v: list[str]) -> list[str]:
        bad = [c for c in v if not _DUO.match(c)]
        if bad:
            raise ValueError(f"consent codes must be DUO CURIEs like DUO:0000042, not {bad}")
        return v

    @field_validator("files")
    @classmethod
    def _nonempty(cls, v: list[ManifestFile]) -> list[ManifestFile]:
        if not v:
            raise ValueError("list at least one data file")
        return v

    def canonical_bytes(self) -> bytes:
        """A stable serialization, used to derive ids when the manifest is synthesized."""
        return orjson.dumps(self.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)


def parse_manifest(raw: bytes, *, label: str = MANIFEST_NAME) -> Manifest:
    """Parse manifest YAML, turning every problem into a :class:`SubmissionError`."""
    try:
        data: Any = yaml.safe_load(raw)
    except Exception as exc:
        # Besides YAMLError, PyYAML's constructors raise ValueError (2001-02-30, !!int x),
        # KeyError (!!bool x), AttributeError (!!timestamp x); its composer recurses once
        # per level of nesting (RecursionError). All mean the same: not a usable manifest.
        mark = getattr(exc, "problem_mark", None)
        if isinstance(exc, RecursionError):
            problem = "nested too deeply"
        elif isinstance(exc, yaml.YAMLError):
            problem = str(exc)
        else:
            problem = f"a value cannot be read ({type(exc).__name__}: {exc})"
        raise SubmissionError(
            f"manifest is not valid YAML: {problem}",
            file=label,
            row=(mark.line + 1) if mark is not None else None,
            hint="fix the YAML syntax",
        ) from exc
    if not isinstance(data, dict):
        raise SubmissionError(
            "manifest must be a YAML mapping", file=label, hint="see the README for an example"
        )
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        field, message = first_error(exc, Manifest)
        hint = "correct the manifest and submit again"
        if field == "access":
            hint = "say who may read this submission: access: public or access: controlled"
        raise SubmissionError(
            f"manifest field {field!r}: {message}",
            file=label,
            column=field,
            hint=hint,
        ) from exc


def derived_id(manifest_sha256: str) -> str:
    """The submission id used when the manifest gives none.

    >>> derived_id("ab" * 32)
    'sub-abababababababab'
    """
    return f"sub-{manifest_sha256[:16]}"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_manifest(directory: Path) -> tuple[Manifest, str]:
    """Read ``manifest.yaml`` from a submission directory: the manifest and its sha-256."""
    path = directory / MANIFEST_NAME
    if not path.is_file():
        raise SubmissionError(
            "no manifest.yaml in the submission directory",
            file=str(directory),
            hint="add a manifest.yaml, or pass a single data file with --profile",
        )
    raw = path.read_bytes()
    return parse_manifest(raw), sha256_bytes(raw)
