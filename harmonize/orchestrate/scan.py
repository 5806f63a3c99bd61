"""The landing scan: manifests in the landing zone that were never ingested get their event.

The safety net under event delivery: a submission whose event was lost (never sent, or
consumed by a trigger whose DAG run then failed for good) is found here. A version
counts as ingested once the state store knows it as published, rejected or in progress;
a ``failed`` version (a transient error outlived its retries), or one left ``received``
or ``processing`` for longer than ``stale_after_s`` (its event was consumed but no run
took it to the end: Airflow coalesces asset events that arrive while a run is being
created, and a run can fail for good), is announced again. Idempotent processing makes
a needless re-announcement harmless.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harmonize.settings import Settings

SOURCE = "urn:harmonize:landing-scan"
FINAL = {"published", "rejected"}
IN_PROGRESS = {"received", "processing"}


@dataclass(frozen=True)
class Landed:
    submission_id: str
    manifest_uri: str
    manifest_sha256: str


def landed_manifests(root: Path, *, min_age_s: float = 0.0) -> Iterator[Landed]:
    """Every ``manifest.yaml`` under a local landing directory older than ``min_age_s``.

    Young manifests are skipped: their upload (and event) may still be under way.
    """
    from harmonize.submission.manifest import MANIFEST_NAME, derived_id, parse_manifest
    from harmonize.submission.manifest import sha256_bytes as digest

    if not root.is_dir():
        return
    now = time.time()
    for path in sorted(root.rglob(MANIFEST_NAME)):
        if any(part.startswith(".") for part in path.relative_to(root).parts):
            continue  # an upload still being written (LocalLanding's .incoming-*)
        if now - path.stat().st_mtime < min_age_s:
            continue
        raw = path.read_bytes()
        sha = digest(raw)
        try:
            manifest = parse_manifest(raw, label=str(path))
        except Exception:  # an unusable manifest is still announced: ingest rejects it
            manifest = None
        sid = (manifest.submission_id if manifest else None) or derived_id(sha)
        yield Landed(sid, str(path.resolve()), sha)


def scan_landing(
    settings: Settings,
    bus: Any,
    *,
    landing_root: Path,
    min_age_s: float = 60.0,
    stale_after_s: float = 300.0,
) -> list[Landed]:
    """Emit ``submission.created`` for every landed version the state store has not seen."""
    from harmonize.events import SUBMISSIONS, submission_created
    from harmonize.state.store import StateStore

    settings.workspace.mkdir(parents=True, exist_ok=True)
    state = StateStore(settings.registry)
    emitted = []
    for landed in landed_manifests(landing_root, min_age_s=min_age_s):
        row = state.get(landed.submission_id, landed.manifest_sha256)
        if row is not None and not _needs_event(row, stale_after_s):
            continue
        envelope = submission_created(
            landed.submission_id, landed.manifest_uri, landed.manifest_sha256, source=SOURCE
        )
        bus.publish(SUBMISSIONS, envelope.to_bytes(), key=landed.submission_id)
        emitted.append(landed)
    return emitted


def _needs_event(row: dict[str, Any], stale_after_s: float) -> bool:
    from datetime import UTC, datetime

    if row["status"] in FINAL:
        return False
    if row["status"] in IN_PROGRESS:
        updated: datetime = row["updated_at"]
        if updated.tzinfo is None:
            updated = updated.replace(tzinfo=UTC)
        age = (datetime.now(UTC) - updated).total_seconds()
        return age > stale_after_s
    return True
