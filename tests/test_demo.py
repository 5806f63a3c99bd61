"""`make demo` end to end: every step it checks (rejection, publications, the event path, the
DRS round trip with its sha-256) must hold, or it returns 1."""

from __future__ import annotations

from pathlib import Path

import pytest

from harmonize.demo import main


@pytest.mark.integration
@pytest.mark.slow
def test_the_demo_runs_end_to_end(tmp_path: Path) -> None:
    workspace = tmp_path / "demo-workspace"
    assert main(workspace) == 0
    assert (workspace / "events").is_dir()  # the event path used the local event log
    published = {p.name for p in (workspace / "published" / "phenopackets").iterdir()}
    assert {"aire-aps1", "clinic-2026-11"} <= published
