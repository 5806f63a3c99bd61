"""Intake fixtures: a copy of a real submission, a workspace, an S3 endpoint (moto server)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from harmonize.settings import Settings

SUBMISSIONS = Path(__file__).resolve().parents[1] / "data" / "submissions"


@pytest.fixture
def clinic(tmp_path: Path) -> Path:
    """The clinic-tabular submission (CSV + mapping YAML), in a directory of the test's own."""
    target = tmp_path / "upload" / "clinic-tabular"
    shutil.copytree(SUBMISSIONS / "clinic-tabular", target)
    return target


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(workspace=tmp_path / "ws")


@pytest.fixture
def s3_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto S3 server on a free port (the only mock: a cloud object store)."""
    from moto.server import ThreadedMotoServer

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: str) -> str:
    import boto3

    name = f"landing-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=name)
    return name
