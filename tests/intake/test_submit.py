"""harmonize submit: land, record, announce; fetch brings it back for processing."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
import yaml

from harmonize.errors import SubmissionError
from harmonize.events import SUBMISSIONS, LocalEventLog, created_data, parse_envelope
from harmonize.intake import LandingUnavailable, fetch_submission, submit
from harmonize.settings import Settings
from harmonize.state.store import StateStore
from harmonize.submission.receive import receive
from tests.intake.conftest import SUBMISSIONS as DATA


def events_on(settings: Settings) -> list[bytes]:
    log = LocalEventLog(Path(settings.events))
    try:
        return [m.value for m in log.consume(SUBMISSIONS, group="t", timeout_s=0, max_messages=50)]
    finally:
        log.close()


def test_submit_lands_records_and_announces(clinic: Path, settings: Settings) -> None:
    created = submit(clinic, settings)
    assert created.submission_id == "clinic-2026-11"
    landed = Path(created.manifest_uri).parent
    manifest = landed / "manifest.yaml"  # as submitted, with the mapping's digest added
    assert created.manifest_sha256 == hashlib.sha256(manifest.read_bytes()).hexdigest()
    assert yaml.safe_load(manifest.read_text()) == {
        **yaml.safe_load((clinic / "manifest.yaml").read_text()),
        "mapping_sha256": hashlib.sha256((clinic / "mapping.yaml").read_bytes()).hexdigest(),
    }
    assert (
        landed
        == (settings.workspace / "landing" / "clinic-2026-11" / created.manifest_sha256).absolute()
    )
    assert sorted(p.name for p in landed.iterdir()) == [
        "clinic_export.csv",
        "manifest.yaml",
        "mapping.yaml",
    ]
    assert (landed / "clinic_export.csv").read_bytes() == (
        clinic / "clinic_export.csv"
    ).read_bytes()

    [value] = events_on(settings)
    event = parse_envelope(value)
    assert event.subject == "clinic-2026-11"
    assert created_data(event) == created

    state = StateStore(settings.registry).get("clinic-2026-11", created.manifest_sha256)
    assert state is not None and state["status"] == "received"
    assert state["submitter"] == "Example Children's Clinic"

    root = fetch_submission(created, settings)
    assert root == landed
    checked = receive(root, max_file_bytes=settings.max_file_bytes)  # what processing does next
    assert checked.manifest_sha256 == created.manifest_sha256
    assert checked.mapping_path == landed / "mapping.yaml"


def test_a_manifest_without_checksums_is_completed(clinic: Path, settings: Settings) -> None:
    data = yaml.safe_load((clinic / "manifest.yaml").read_text())
    del data["files"][0]["sha256"]
    (clinic / "manifest.yaml").write_text(yaml.safe_dump(data))
    created = submit(clinic, settings)
    landed = yaml.safe_load(Path(created.manifest_uri).read_text())
    expected = hashlib.sha256((clinic / "clinic_export.csv").read_bytes()).hexdigest()
    assert landed["files"][0]["sha256"] == expected
    assert (
        created.manifest_sha256
        == hashlib.sha256(Path(created.manifest_uri).read_bytes()).hexdigest()
    )


def test_bad_checksum_lands_and_announces_nothing(clinic: Path, settings: Settings) -> None:
    with (clinic / "clinic_export.csv").open("a") as fh:
        fh.write("CL-999,male,1,alive,OMIM:615032,x,,no,,1,HGNC:20153,CHD8,,het\n")
    with pytest.raises(SubmissionError) as info:
        submit(clinic, settings)
    assert info.value.file == "clinic_export.csv"
    assert "sha-256 mismatch" in info.value.message
    assert not (settings.workspace / "landing").exists() or not any(
        (settings.workspace / "landing").iterdir()
    )
    assert events_on(settings) == []


def test_resubmitting_announces_again_but_never_rolls_state_back(
    clinic: Path, settings: Settings
) -> None:
    first = submit(clinic, settings)
    StateStore(settings.registry).set_status(
        first.submission_id, first.manifest_sha256, "published"
    )
    second = submit(clinic, settings)
    assert second == first
    assert len(events_on(settings)) == 2
    state = StateStore(settings.registry).get(first.submission_id, first.manifest_sha256)
    assert state is not None and state["status"] == "published"


def test_directories_of_documents_land_whole(tmp_path: Path, settings: Settings) -> None:
    source = tmp_path / "fbxl4"
    shutil.copytree(DATA / "fbxl4-phenopackets", source)
    created = submit(source, settings)
    root = fetch_submission(created, settings)
    checked = receive(root, max_file_bytes=settings.max_file_bytes)
    originals = sorted(p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_file())
    landed = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert landed == originals
    assert checked.id == created.submission_id


def test_fetch_refuses_a_changed_manifest(clinic: Path, settings: Settings) -> None:
    created = submit(clinic, settings)
    with Path(created.manifest_uri).open("a") as fh:
        fh.write("# edited after landing\n")
    with pytest.raises(SubmissionError) as info:
        fetch_submission(created, settings)
    assert info.value.file == "manifest.yaml" and not info.value.transient


def test_fetch_of_a_missing_manifest_is_terminal(clinic: Path, settings: Settings) -> None:
    created = submit(clinic, settings)
    shutil.rmtree(Path(created.manifest_uri).parent)
    with pytest.raises(SubmissionError, match="not found"):
        fetch_submission(created, settings)


def test_s3_landing_round_trip(
    clinic: Path, tmp_path: Path, s3_endpoint: str, s3_bucket: str
) -> None:
    import boto3

    settings = Settings(
        workspace=tmp_path / "ws",
        landing_url=f"s3://{s3_bucket}/incoming/",
        s3_endpoint_url=s3_endpoint,
    )
    created = submit(clinic, settings)
    prefix = f"incoming/clinic-2026-11/{created.manifest_sha256}/"
    assert created.manifest_uri == f"s3://{s3_bucket}/{prefix}manifest.yaml"
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    keys = sorted(o["Key"] for o in client.list_objects_v2(Bucket=s3_bucket)["Contents"])
    assert keys == [prefix + n for n in ("clinic_export.csv", "manifest.yaml", "mapping.yaml")]

    root = fetch_submission(created, settings)
    assert (
        root
        == (settings.workspace / "incoming" / "clinic-2026-11" / created.manifest_sha256).absolute()
    )
    assert (root / "clinic_export.csv").read_bytes() == (clinic / "clinic_export.csv").read_bytes()
    assert (
        receive(root, max_file_bytes=settings.max_file_bytes).manifest_sha256
        == created.manifest_sha256
    )

    # tampered in the bucket: the sha-256 check names the manifest
    client.put_object(Bucket=s3_bucket, Key=prefix + "manifest.yaml", Body=b"profile: tabular\n")
    with pytest.raises(SubmissionError) as info:
        fetch_submission(created, settings)
    assert info.value.file == "manifest.yaml"


def test_s3_unreachable_is_transient(clinic: Path, tmp_path: Path, s3_endpoint: str) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = Settings(
        workspace=tmp_path / "ws",
        landing_url="s3://nowhere/x",
        s3_endpoint_url=f"http://127.0.0.1:{port}",
    )
    with pytest.raises(LandingUnavailable) as info:
        submit(clinic, settings)
    assert info.value.transient
    assert events_on(settings) == []


def test_missing_bucket_is_a_configuration_error(
    clinic: Path, tmp_path: Path, s3_endpoint: str
) -> None:
    from harmonize.errors import ConfigurationError

    settings = Settings(
        workspace=tmp_path / "ws", landing_url="s3://no-such-bucket/x", s3_endpoint_url=s3_endpoint
    )
    with pytest.raises(ConfigurationError, match="NoSuchBucket"):
        submit(clinic, settings)
