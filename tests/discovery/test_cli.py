"""``harmonize discover``: the Beacon query in-process, as JSON or a table."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from harmonize.cli import app as cli
from tests.discovery.kit import API, bearer


def test_discover_prints_the_beacon_answer(store: Any, beacon_schemas: Any) -> None:
    workspace = str(store.settings.workspace)
    run = CliRunner().invoke(
        cli, ["discover", "--filter", "HP:0001250", "--granularity", "count", "-w", workspace]
    )
    assert run.exit_code == 0, run.output
    answer = json.loads(run.output)
    beacon_schemas.response(answer)
    served = store.client.get(
        f"{API}/individuals", params={"filters": "HP:0001250", "requestedGranularity": "count"}
    ).json()
    assert answer["responseSummary"] == served["responseSummary"]  # anonymous, as served
    granted = CliRunner().invoke(
        cli,
        [
            "discover",
            "-f",
            "HP:0001250",
            "-f",
            "NCIT:C16576",
            "--all-datasets",
            "--granularity",
            "record",
            "--format",
            "table",
            "--limit",
            "3",
            "-w",
            workspace,
        ],
    )
    assert granted.exit_code == 0, granted.output
    every = bearer("aire", "chd8", "fbxl4", "mpv17", "suox")
    truth = store.client.get(
        f"{API}/individuals",
        params={"filters": "HP:0001250,NCIT:C16576", "requestedGranularity": "count"},
        headers=every,
    ).json()["responseSummary"]["numTotalResults"]
    assert f"numTotalResults: {truth}" in granted.output
    assert "female;" in granted.output


def test_discover_names_a_bad_filter(store: Any) -> None:
    run = CliRunner().invoke(
        cli, ["discover", "--filter", "HP:9999999", "-w", str(store.settings.workspace)]
    )
    assert run.exit_code == 2
    assert "filter 'HP:9999999'" in run.output
