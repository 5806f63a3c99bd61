"""Versions of a submission: what makes one, and whether this one is published already.

A submission id has versions 1, 2, ... Its identity (:meth:`Submission.identity`) covers
everything that shapes its output: the manifest, the mapping file, the profile and the
pinned ontology releases. The same identity again is a replay: a no-op. A changed one is
the next version, which replaces the previous one in the current tables; the previous
version's DRS objects stay resolvable, marked superseded.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import yaml

from harmonize.drs.ids import bundle_id
from harmonize.drs.registry import Registry
from harmonize.settings import Settings
from harmonize.submission.receive import Submission
from harmonize.warehouse import ledger


@functools.cache
def _ontologies_sha256(manifest: Path, mtime_ns: int) -> str:
    raw = yaml.safe_load(manifest.read_bytes())
    entries = raw.get("ontologies") or []
    releases = sorted(
        (str(e["prefix"]), str(e.get("version")), str(e["sha256"]))
        for e in entries
        if e.get("file")
    )
    # a code list decides which OMIM/ORPHA/ICD-10 ids pass, so it is part of the identity
    releases += sorted(
        (f"codes:{c['name']}", str(c.get("version")), str(c["sha256"]))
        for c in raw.get("code_lists") or []
    )
    return hashlib.sha256(json.dumps(releases).encode()).hexdigest()


def ontologies_sha256(settings: Settings) -> str:
    """The pinned ontology releases and code lists, as one sha-256 of each loaded file's
    prefix (or code list name), version and sha-256. A code system checked for syntax only
    (no file, no code list) is not a release: adding one leaves every published
    submission's identity as it was."""
    manifest = settings.ontologies_dir / "manifest.yaml"
    return _ontologies_sha256(manifest, manifest.stat().st_mtime_ns)


def version_sha256(submission: Submission, settings: Settings) -> str:
    return submission.version_sha256(ontologies_sha256(settings))


def published_version(
    submission: Submission, settings: Settings, registry: Registry
) -> tuple[int, str, bool] | None:
    """``(version, bundle id, superseded)`` if this exact version is published.

    A submission published before versions existed (migrated) matches by its manifest.
    """
    identity = version_sha256(submission, settings)
    with registry.session() as session:
        done = ledger.versions(session, submission.id)
    if not done:
        legacy = bundle_id(submission.id, submission.manifest_sha256)
        return (1, legacy, False) if registry.has_bundle(legacy) else None
    for row in done:
        same = row.version_sha256 == identity or (
            row.version_sha256 is None and row.manifest_sha256 == submission.manifest_sha256
        )
        if same and row.bundle_id is not None:
            return row.version or 1, row.bundle_id, row is not done[-1]
    return None
