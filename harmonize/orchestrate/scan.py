"""The landing scan: manifests in the landing zone that were never ingested get their event.

The safety net under event delivery: a submission whose event was lost (never sent, or
consumed by a trigger whose DAG run then failed for good) is found here. A version
counts as ingested once the state store knows it as published, rejected or in progress;
a ``failed`` version (a transient error outlived its retries), or one left ``received``
or ``processing`` for longer than ``stale_after_s`` (its event was consumed but no run
took it to the end: Airflow coalesces asset events that arrive while a run is being
created, and a run can fail for good), is announced again. Idempotent processing makes
a needless re-announcement harmless.

The landing store is a local directory or ``s3://bucket/prefix``, as for
:func:`harmonize.intake.open_landing`. Either way a manifest younger than ``min_age_s``
is skipped (its upload and event may still be under way), and so is an upload in flight:
on a local directory it is still in a hidden ``.incoming-*`` directory, on S3 its
``<id>/<sha-256>/manifest.yaml`` is not written yet (the landing writes it last).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from harmonize.settings import Settings

if TYPE_CHECKING:
    from harmonize.intake.landing import LandingStore

SOURCE = "urn:harmonize:landing-scan"
FINAL = {"published", "rejected"}
IN_PROGRESS = {"received", "processing"}


@dataclass(frozen=True)
class Landed:
    submission_id: str
    manifest_uri: str
    manifest_sha256: str


def landed_manifests(store: LandingStore, *, min_age_s: float = 0.0) -> Iterator[Landed]:
    """Every complete landed manifest of ``store`` older than ``min_age_s``.

    The manifest URI is the one :meth:`~harmonize.intake.landing.LandingStore.fetch` reads.
    """
    for uri, raw in store.manifests(min_age_s=min_age_s):
        yield _landed(raw, uri)


def _landed(raw: bytes, uri: str) -> Landed:
    """The announcement for a manifest's bytes: its sha-256 and its submission id."""
    from harmonize.submission.manifest import derived_id, parse_manifest
    from harmonize.submission.manifest import sha256_bytes as digest

    sha = digest(raw)
    try:
        manifest = parse_manifest(raw, label=uri)
    except Exception:  # an unusable manifest is still announced: ingest rejects it
        manifest = None
    sid = (manifest.submission_id if manifest else None) or derived_id(sha)
    return Landed(sid, uri, sha)


def scan_landing(
    settings: Settings,
    bus: Any,
    *,
    landing: str | None = None,
    client: Any = None,
    min_age_s: float = 60.0,
    stale_after_s: float = 300.0,
) -> list[Landed]:
    """Emit ``submission.created`` for every landed version the state store has not seen.

    ``landing`` is a directory or ``s3://bucket/prefix`` (default ``settings.landing``);
    ``client`` an S3 client to use instead of one for ``settings.s3_endpoint_url``.
    """
    from harmonize.events import SUBMISSIONS, submission_created
    from harmonize.intake.landing import open_landing
    from harmonize.state.store import StateStore

    store = open_landing(
        landing or settings.landing, s3_endpoint_url=settings.s3_endpoint_url, client=client
    )
    settings.workspace.mkdir(parents=True, exist_ok=True)
    state = StateStore(settings.registry)
    emitted = []
    for landed in landed_manifests(store, min_age_s=min_age_s):
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
    if row["status"] in FINAL:
        return False
    if row["status"] in IN_PROGRESS:
        updated: datetime = row["updated_at"]
        if updated.tzinfo is None:
            updated = updated.replace(tzinfo=UTC)
        age = (datetime.now(UTC) - updated).total_seconds()
        return age > stale_after_s
    return True
