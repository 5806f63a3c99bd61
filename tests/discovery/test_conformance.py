"""schemathesis runs the official Beacon v2.1.1 ``framework/json/endpoints.json`` against a
live ``harmonize serve``-style server holding published data (as tests/drs does for DRS)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from harmonize.drs.serve import app_factory_env
from tests.discovery.kit import API, SCHEMAS

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SPEC = SCHEMAS / "framework" / "json" / "endpoints.json"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def live(store: Any) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        **app_factory_env(workspace=store.settings.workspace, host="127.0.0.1", port=port),
        "HARMONIZE_ONTOLOGY_CACHE": str(store.settings.cache_dir),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "harmonize.drs.serve:app_from_env",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}{API}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/info", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                error = server.stderr.read().decode() if server.stderr else ""
                pytest.fail(f"the server did not start: {error}")
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_schemathesis_against_the_official_beacon_endpoints(live: str, tmp_path: Path) -> None:
    executable = Path(sys.executable).parent / "schemathesis"
    run = subprocess.run(
        [
            str(executable),
            "run",
            str(SPEC),
            "--url",
            live,
            "--checks",
            "all",
            "--max-examples",
            "12",
            "--workers",
            "1",
            "--seed",
            "20261207",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    output = run.stdout[-6000:] + run.stderr[-2000:]
    assert run.returncode == 0, output
    assert "Tested: 7" in run.stdout or "7 passed" in run.stdout, output
    # the filtering terms the live server lists are the ones of the published data
    terms = httpx.get(f"{live}/filtering_terms", timeout=30).json()["response"]["filteringTerms"]
    assert any(t["id"] == "HP:0001250" for t in terms)
