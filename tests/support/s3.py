"""S3 for tests: a moto server (the only mock: a cloud object store cannot run here)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@contextmanager
def moto_server(log: Path, host: str = "127.0.0.1") -> Iterator[str]:
    """A moto S3 server process listening on ``host`` (a free port); its endpoint URL."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind((host, 0))
        port = probe.getsockname()[1]
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    endpoint = f"http://{host}:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail(f"moto did not start: {log.read_text()[-2000:]}", pytrace=False)
        yield endpoint
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:  # busy with a large store: do not hang the caller
            server.kill()
            server.wait()


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One moto S3 server for the session, in a process of its own: deltalake's S3 calls
    hold the GIL, so a server thread in the test process could not answer them. Its
    credentials are set for child processes too."""
    saved = {k: os.environ.get(k) for k in CREDENTIALS}
    os.environ.update(CREDENTIALS)
    try:
        with moto_server(tmp_path_factory.mktemp("moto") / "moto.log") as endpoint:
            yield endpoint
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def warehouse_bucket(moto_endpoint: str) -> str:
    """A fresh bucket: ``s3://<bucket>/warehouse`` is a warehouse URL."""
    import boto3

    name = f"wh-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=moto_endpoint).create_bucket(Bucket=name)
    return name
