"""``harmonize worker --once`` drains the local event log."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from harmonize.cli import app
from harmonize.events import RESULTS, open_bus, parse_envelope
from harmonize.intake import submit
from harmonize.settings import Settings
from tests.orchestrate.conftest import drain

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_worker_once_publishes_what_was_submitted(
    tmp_path: Path, submissions: Path, ontology_cache: Path
) -> None:
    settings = Settings(workspace=tmp_path / "ws", ontology_cache=ontology_cache)
    created = submit(submissions / "clinic-tabular", settings)
    out = CliRunner().invoke(
        app, ["worker", "--workspace", str(settings.workspace), "--once"], catch_exceptions=False
    )
    assert out.exit_code == 0, out.output
    assert f"{created.submission_id}" in out.output
    assert "1 events processed" in out.output
    bus = open_bus(settings.events)
    try:
        (result,) = drain(bus, RESULTS)
    finally:
        bus.close()
    data = parse_envelope(result.value).data
    assert data["submission_id"] == created.submission_id
    assert data["status"] in ("published", "rejected")
    assert (data["bundle_id"] is not None) == (data["status"] == "published")
