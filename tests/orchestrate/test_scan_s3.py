"""The landing scan over an S3 landing store (a moto server: the only mock, a cloud store)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from harmonize.errors import ConfigurationError
from harmonize.events import SUBMISSIONS, open_bus, parse_envelope
from harmonize.events.envelope import SubmissionCreated
from harmonize.intake import S3Landing, fetch_submission, submit
from harmonize.intake.landing import s3_client
from harmonize.orchestrate.scan import SOURCE, scan_landing
from harmonize.settings import Settings
from harmonize.state.store import StateStore, submissions
from tests.intake.conftest import s3_bucket, s3_endpoint  # noqa: F401  (fixtures)
from tests.orchestrate.conftest import drain

CLINIC = Path(__file__).resolve().parents[1] / "data" / "submissions" / "clinic-tabular"


@pytest.fixture
def s3_settings(
    tmp_path: Path,
    ontology_cache: Path,
    s3_endpoint: str,  # noqa: F811
    s3_bucket: str,  # noqa: F811
) -> Settings:
    return Settings(
        workspace=tmp_path / "ws",
        ontology_cache=ontology_cache,
        events_url=str(tmp_path / "events"),
        landing_url=f"s3://{s3_bucket}/incoming",
        s3_endpoint_url=s3_endpoint,
    )


@pytest.fixture
def bus(s3_settings: Settings) -> Any:
    opened = open_bus(s3_settings.events)
    try:
        yield opened
    finally:
        opened.close()


def _store(settings: Settings, landing: str | None = None) -> S3Landing:
    bucket, _, prefix = (landing or settings.landing).removeprefix("s3://").partition("/")
    return S3Landing(bucket, prefix, client=s3_client(settings.s3_endpoint_url))


def _land_without_event(store: S3Landing) -> tuple[str, bytes]:
    """clinic-tabular landed the way S3Landing lands it, with no event and no state row."""
    manifest = (CLINIC / "manifest.yaml").read_bytes()
    sha = hashlib.sha256(manifest).hexdigest()
    files = [(p.name, p) for p in sorted(CLINIC.iterdir()) if p.name != "manifest.yaml"]
    store.land("clinic-2026-11", sha, manifest, files)
    return sha, manifest


@pytest.mark.parametrize("prefix", ["incoming", ""], ids=["prefix", "bucket-root"])
def test_a_version_landed_on_s3_without_an_event_is_announced_once(
    s3_settings: Settings, bus: Any, prefix: str
) -> None:
    bucket = s3_settings.landing.removeprefix("s3://").split("/")[0]
    landing = f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}"
    store = _store(s3_settings, landing)
    sha, _ = _land_without_event(store)
    uri = store.manifest_uri("clinic-2026-11", sha)
    assert uri.endswith(
        f"{bucket}/{prefix + '/' if prefix else ''}clinic-2026-11/{sha}/manifest.yaml"
    )

    found = scan_landing(s3_settings, bus, landing=landing, min_age_s=0)

    assert [(f.submission_id, f.manifest_uri, f.manifest_sha256) for f in found] == [
        ("clinic-2026-11", uri, sha)
    ]
    (message,) = drain(bus, SUBMISSIONS)
    event = parse_envelope(message.value)
    assert event.source == SOURCE
    assert event.data["manifest_uri"] == uri and event.data["manifest_sha256"] == sha
    # the URI is one fetch accepts: the version comes back whole, its sha-256 verified
    root = fetch_submission(SubmissionCreated(**event.data), s3_settings)
    assert sorted(p.name for p in root.iterdir()) == sorted(p.name for p in CLINIC.iterdir())

    # once the state store knows it as published (or rejected), it is left alone
    state = StateStore(s3_settings.registry)
    for final in ("published", "rejected"):
        state.set_status("clinic-2026-11", sha, final)
        assert scan_landing(s3_settings, bus, landing=landing, min_age_s=0) == []
        assert drain(bus, SUBMISSIONS) == []


def test_a_young_manifest_is_left_for_its_own_event(s3_settings: Settings, bus: Any) -> None:
    _land_without_event(_store(s3_settings))
    assert scan_landing(s3_settings, bus, min_age_s=3600) == []
    assert drain(bus, SUBMISSIONS) == []
    assert len(scan_landing(s3_settings, bus, min_age_s=0)) == 1


def test_an_upload_in_flight_is_skipped_until_its_manifest_lands(
    s3_settings: Settings, bus: Any
) -> None:
    """S3Landing writes the manifest last; a manifest.yaml among the files does not count."""
    store = _store(s3_settings)
    manifest = (CLINIC / "manifest.yaml").read_bytes()
    sha = hashlib.sha256(manifest).hexdigest()
    base = f"incoming/clinic-2026-11/{sha}"
    client = store.client
    client.put_object(Bucket=store.bucket, Key=f"{base}/clinic_export.csv", Body=b"a,b\n")
    client.put_object(Bucket=store.bucket, Key=f"{base}/docs/manifest.yaml", Body=manifest)
    client.put_object(Bucket=store.bucket, Key="incoming/manifest.yaml", Body=manifest)

    assert scan_landing(s3_settings, bus, min_age_s=0) == []

    client.put_object(Bucket=store.bucket, Key=f"{base}/manifest.yaml", Body=manifest)
    (found,) = scan_landing(s3_settings, bus, min_age_s=0)
    assert found.manifest_uri == f"s3://{store.bucket}/{base}/manifest.yaml"


def test_a_stale_received_version_is_announced_again(s3_settings: Settings, bus: Any) -> None:
    created = submit(CLINIC, s3_settings, bus=bus)
    (sent,) = drain(bus, SUBMISSIONS)
    key = (created.submission_id, created.manifest_sha256)
    state = StateStore(s3_settings.registry)
    assert state.get(*key)["status"] == "received"  # type: ignore[index]

    # received a moment ago: its own event may still be on the way
    assert scan_landing(s3_settings, bus, min_age_s=0, stale_after_s=300) == []

    # an hour later still received: the event was consumed, no run finished it
    with state.engine.begin() as conn:
        conn.execute(
            update(submissions)
            .where(submissions.c.id == key[0], submissions.c.manifest_sha256 == key[1])
            .values(updated_at=datetime.now(UTC) - timedelta(hours=1))
        )
    (found,) = scan_landing(s3_settings, bus, min_age_s=0, stale_after_s=300)
    assert (found.submission_id, found.manifest_sha256) == key
    assert found.manifest_uri == created.manifest_uri
    (again,) = drain(bus, SUBMISSIONS)
    assert parse_envelope(again.value).data == parse_envelope(sent.value).data

    # a failed version (retries outlived) is announced again at once
    state.set_status(*key, "failed")
    assert len(scan_landing(s3_settings, bus, min_age_s=0, stale_after_s=300)) == 1


def test_the_dag_task_scans_the_s3_landing_from_the_environment(
    s3_settings: Settings, bus: Any
) -> None:
    """Regression: scan_landing_zone raised ConfigurationError for an s3:// landing."""
    from harmonize.orchestrate.tasks import scan_landing_zone

    sha, _ = _land_without_event(_store(s3_settings))
    env = {
        "HARMONIZE_WORKSPACE": str(s3_settings.workspace),
        "HARMONIZE_EVENTS_URL": s3_settings.events,
        "HARMONIZE_LANDING_URL": s3_settings.landing,
        "HARMONIZE_S3_ENDPOINT_URL": str(s3_settings.s3_endpoint_url),
        "HARMONIZE_SCAN_MIN_AGE": "0",
    }
    found = scan_landing_zone(env)
    assert [(f["submission_id"], f["manifest_sha256"]) for f in found] == [("clinic-2026-11", sha)]
    assert len(drain(bus, SUBMISSIONS)) == 1


def test_a_missing_bucket_is_a_configuration_error(s3_settings: Settings, bus: Any) -> None:
    with pytest.raises(ConfigurationError, match="NoSuchBucket"):
        scan_landing(s3_settings, bus, landing="s3://no-such-bucket/incoming", min_age_s=0)


@pytest.mark.integration
@pytest.mark.slow
def test_a_scanned_s3_version_is_processed_then_ignored(s3_settings: Settings, bus: Any) -> None:
    from harmonize.orchestrate.process import process_event

    sha, _ = _land_without_event(_store(s3_settings))
    (found,) = scan_landing(s3_settings, bus, min_age_s=0)
    (message,) = drain(bus, SUBMISSIONS)
    assert process_event(message.value, s3_settings, bus).outcome == "published"
    assert StateStore(s3_settings.registry).get(found.submission_id, sha)["status"] == (  # type: ignore[index]
        "published"
    )
    assert scan_landing(s3_settings, bus, min_age_s=0) == []
