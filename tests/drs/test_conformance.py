"""Conformance with the official DRS 1.5.0 OpenAPI document, on real published data.

A live uvicorn server (free port) serves a workspace where the pipeline published the
``fbxl4-phenopackets`` submission; schemathesis 4 runs every operation of the official
spec against it (``--checks all``, see README "DRS conformance" for the two exclusions),
then every object of the bundle is fetched and its bytes re-hashed.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from harmonize.drs.registration import bundle_checksum
from harmonize.drs.serve import app_factory_env
from harmonize.pipeline import ingest
from harmonize.settings import Settings
from tests.drs.passport_kit import BROKER, DAC, KIT

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SHARED_SPEC = ROOT.parent / "shared" / "data" / "drs" / "drs-1.5.0.openapi.bundled.yaml"
LOCAL_SPEC = Path(__file__).parent / "data" / "drs-openapi" / "drs-1.5.0.openapi.bundled.json"
SPEC = SHARED_SPEC if SHARED_SPEC.exists() else LOCAL_SPEC
API = "/ga4gh/drs/v1"
# positive_data_acceptance: the spec types object ids as any string, ours are
#   [A-Za-z0-9._~:-]+ and others answer the documented 400 "malformed request";
# ignored_auth (and generated security parameters): the spec marks PassportAuth as
#   required on POST /objects and /objects/access, but public objects are open to all.
EXCLUDED_CHECKS = "positive_data_acceptance,ignored_auth"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Live:
    base: str  # http://127.0.0.1:PORT/ga4gh/drs/v1
    bundle_id: str
    workspace: Path


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory, ontology_cache: Path, submissions: Path
) -> Iterator[Live]:
    root = tmp_path_factory.mktemp("conformance")
    workspace = root / "workspace"
    result = ingest(
        submissions / "fbxl4-phenopackets",
        Settings(workspace=workspace, ontology_cache=ontology_cache),
    )
    assert result.status == "published", result.message
    assert result.bundle_id
    auth_file = root / "auth.json"
    auth = KIT.auth_settings()
    auth_file.write_text(auth.model_dump_json())
    port = _free_port()
    env = {
        **os.environ,
        **app_factory_env(workspace=workspace, host="127.0.0.1", port=port),
        "HARMONIZE_DRS_AUTH_FILE": str(auth_file),
        "HARMONIZE_DRS_COMPACT_PREFIX": "hz.drs",
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
                if httpx.get(f"{base}/service-info", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                error = server.stderr.read().decode() if server.stderr else ""
                pytest.fail(f"the DRS server did not start: {error}")
            time.sleep(0.2)
        yield Live(base=base, bundle_id=result.bundle_id, workspace=workspace)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def schemathesis_command(base: str, config: Path) -> list[str]:
    """The command the README documents, with a bounded number of examples."""
    executable = Path(sys.executable).parent / "schemathesis"
    return [
        str(executable),
        "--config-file",
        str(config),
        "run",
        str(SPEC),
        "--url",
        base,
        "--checks",
        "all",
        "--exclude-checks",
        EXCLUDED_CHECKS,
        "--generation-with-security-parameters",
        "false",
        "--max-examples",
        "12",
        "--workers",
        "1",
        "--seed",
        "20240501",
        "--no-color",
    ]


def test_schemathesis_against_the_official_spec(live: Live, tmp_path: Path) -> None:
    bundle = httpx.get(f"{live.base}/objects/{live.bundle_id}", timeout=10).json()
    member = bundle["contents"][0]["id"]
    config = tmp_path / "schemathesis.toml"
    # real ids, so that the success paths are exercised too (random ids answer 401)
    config.write_text(f'[parameters]\n"path.object_id" = "{member}"\n"path.access_id" = "https"\n')
    started = time.monotonic()
    run = subprocess.run(
        schemathesis_command(live.base, config),
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
    )
    output = run.stdout[-6000:] + run.stderr[-2000:]
    assert run.returncode == 0, output
    assert "Tested: 9" in run.stdout, output  # every operation of the spec
    assert "No issues found" in run.stdout or " passed" in run.stdout, output
    print(f"schemathesis: {time.monotonic() - started:.1f} s")


def test_real_data_bytes_and_bundle(live: Live, schemas: Any) -> None:
    """Checksums re-computed over the served bytes; the bundle checksum and expand."""
    with httpx.Client(timeout=10) as client:
        info = client.get(f"{live.base}/service-info").json()
        schemas.check_openapi(info, "components/schemas/DrsService")
        bundle = client.get(f"{live.base}/objects/{live.bundle_id}?expand=true").json()
        schemas.check_drs_object(bundle)
        assert info["drs"]["objectCount"] == len(bundle["contents"]) + 1
        digests = []
        total = 0
        for entry in bundle["contents"]:
            obj = client.get(f"{live.base}/objects/{entry['id']}").json()
            schemas.check_drs_object(obj)
            access = client.get(f"{live.base}/objects/{entry['id']}/access/https").json()
            schemas.check_openapi(access, "components/schemas/AccessURL")
            data = client.get(access["url"]).content
            digest = hashlib.sha256(data).hexdigest()
            assert digest == obj["checksums"][0]["checksum"]
            assert len(data) == obj["size"]
            digests.append(digest)
            total += len(data)
        assert bundle["checksums"][0]["checksum"] == bundle_checksum(digests)
        assert bundle["size"] == total == info["drs"]["totalObjectSize"]
        ranged = client.get(access["url"], headers={"Range": "bytes=0-9"})
        assert ranged.status_code == 206 and ranged.content == data[:10]
        options = client.request("OPTIONS", f"{live.base}/objects/{live.bundle_id}").json()
        schemas.check_openapi(options, "components/schemas/Authorizations")
        assert options["supported_types"] == ["None"]
        unknown = client.request("OPTIONS", f"{live.base}/objects/hzunknown").json()
        assert unknown["bearer_auth_issuers"] == [BROKER]
        assert unknown["passport_auth_issuers"] == [DAC]
        denied = client.get(f"{live.base}/objects/hzunknown")
        schemas.check_error(denied, 401)
        assert json.loads(denied.text)["status_code"] == 401


def test_cli_resolves_hostname_and_compact_uris(live: Live) -> None:
    """``harmonize drs resolve`` against the live server (compact prefix ``hz.drs``)."""
    from typer.testing import CliRunner

    from harmonize.cli.drs import drs

    server = live.base.removesuffix(API)
    bundle = httpx.get(f"{live.base}/objects/{live.bundle_id}", timeout=10).json()
    runner = CliRunner()
    ok = runner.invoke(drs, ["resolve", bundle["self_uri"], "--server", server])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["id"] == live.bundle_id
    compact = runner.invoke(drs, ["resolve", f"drs://hz.drs:{live.bundle_id}", "--server", server])
    assert compact.exit_code == 0, compact.output
    assert json.loads(compact.output)["id"] == live.bundle_id
    assert f"drs://hz.drs:{bundle['contents'][0]['id']}" in bundle["contents"][0]["drs_uri"]
    other = runner.invoke(drs, ["resolve", f"drs://other:{live.bundle_id}", "--server", server])
    assert other.exit_code == 1
    assert json.loads(other.output)["status_code"] == 401  # an unknown id, as any other
    missing_server = runner.invoke(drs, ["resolve", f"drs://hz.drs:{live.bundle_id}"])
    assert missing_server.exit_code == 2
