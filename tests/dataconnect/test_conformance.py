"""schemathesis against the official Data Connect api.yaml (its remote refs made local).

A live ``harmonize serve`` app (uvicorn, a free port) serves the workspace of
:func:`tests.dataconnect.conftest.publish`; schemathesis 4 runs every operation of the
spec with ``--checks all``, except:

- ``ignored_auth``: the spec puts bearer auth on every operation, but public datasets are
  open to anonymous callers (as DRS's public objects are);
- ``positive_data_acceptance``: a schema-valid SearchRequest is still refused when its
  ``query`` is not one SELECT over the caller's tables, and a schema-valid table name need
  not name a table: both answer the documented 400 / 404.

The requests carry a Passport with a visa for a controlled dataset, so ``POST /search``
reaches the parser and DuckDB, not only the 401.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.dataconnect.conftest import API, ISOD, Published, bearer
from tests.dataconnect.spec import LOCAL
from tests.drs.passport_kit import KIT
from tests.support.server import serve_drs

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EXCLUDED_CHECKS = "ignored_auth,positive_data_acceptance"


def test_schemathesis_against_api_yaml(published: Published, tmp_path: Path) -> None:
    auth_file = tmp_path / "auth.json"
    auth_file.write_text(KIT.auth_settings().model_dump_json())
    settings = published.settings
    env = {"HARMONIZE_DRS_AUTH_FILE": str(auth_file)}
    with serve_drs(settings.workspace, settings.registry, workers=1, env=env) as (base, _):
        headers = bearer(ISOD)
        tables = httpx.get(f"{base}{API}/tables", headers=headers, timeout=10).json()
        assert f"{ISOD}.individuals" in [t["name"] for t in tables["tables"]]
        config = tmp_path / "schemathesis.toml"
        # a real table name, so that the success paths are exercised too
        config.write_text(f'[parameters]\n"path.table_name" = "{ISOD}.individuals"\n')
        command = [
            str(Path(sys.executable).parent / "schemathesis"),
            "--config-file",
            str(config),
            "run",
            str(LOCAL),
            "--url",
            f"{base}{API}",
            "--checks",
            "all",
            "--exclude-checks",
            EXCLUDED_CHECKS,
            "--generation-with-security-parameters",
            "false",
            "-H",
            f"Authorization: {headers['Authorization']}",
            "--max-examples",
            "20",
            "--workers",
            "1",
            "--seed",
            "20261207",
            "--no-color",
        ]
        started = time.monotonic()
        run = subprocess.run(command, capture_output=True, text=True, timeout=480, cwd=tmp_path)
    output = run.stdout[-6000:] + run.stderr[-2000:]
    assert run.returncode == 0, output
    operations = len([p for path in json.loads(LOCAL.read_text())["paths"].values() for p in path])
    assert f"Tested: {operations}" in run.stdout, output  # every operation of the spec
    assert "No issues found" in run.stdout or " passed" in run.stdout, output
    print(run.stdout[-1500:], f"schemathesis: {time.monotonic() - started:.1f} s")
