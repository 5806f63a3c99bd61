"""A process killed during publish, then the retry; the landing scan's safety net."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from harmonize.drs.registry import Registry
from harmonize.events import RESULTS, SUBMISSIONS, parse_envelope
from harmonize.intake import LocalLanding, submit
from harmonize.orchestrate.faults import CRASH_BEFORE_COMMIT
from harmonize.orchestrate.process import process_event
from harmonize.orchestrate.scan import scan_landing
from harmonize.settings import Settings
from tests.orchestrate.conftest import drain

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from harmonize.events import open_bus
    from harmonize.orchestrate.faults import crash_hook
    from harmonize.orchestrate.process import process_event
    from harmonize.settings import Settings

    settings = Settings.model_validate_json(Path(sys.argv[1]).read_text())
    raw = Path(sys.argv[2]).read_bytes()
    bus = open_bus(settings.events)
    process_event(raw, settings, bus, before_commit=crash_hook(Path(sys.argv[3]), sys.argv[4]))
    """
)


def test_killed_during_publish_then_retried_publishes_completely(
    settings: Settings, bus: Any, submissions: Path, tmp_path: Path
) -> None:
    submit(submissions / "aire-aps1", settings, bus=bus)
    (message,) = drain(bus, SUBMISSIONS)
    faults = tmp_path / "faults"
    faults.mkdir()
    (faults / f"{CRASH_BEFORE_COMMIT}aire-aps1").touch()
    (tmp_path / "settings.json").write_text(settings.model_dump_json())
    (tmp_path / "event.json").write_bytes(message.value)
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            str(tmp_path / "settings.json"),
            str(tmp_path / "event.json"),
            str(faults),
            "aire-aps1",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert child.returncode == 137, child.stderr[-2000:]
    # killed with the journal written: nothing visible yet, no rows, no result
    published = settings.published_dir
    assert not any(p.is_file() for p in published.rglob("*")) if published.exists() else True
    registry = Registry(settings.registry)
    registry.create_all()
    assert registry.count() == 0
    assert drain(bus, RESULTS) == []
    staged = settings.staging_dir / "aire-aps1"
    assert any(staged.rglob("*.parquet"))  # the crash left staged files behind
    # the retry (the same event, redelivered) finishes the publication exactly once
    retried = process_event(message.value, settings, bus)
    assert retried.outcome == "published"
    tables = published / "tables"  # Delta tables: not DRS objects
    files = sorted(p for p in published.rglob("*") if p.is_file() and tables not in p.parents)
    members = registry.bundle_members(retried.result.bundle_id)
    assert len(members) == len(files) == retried.result.object_count > 0
    assert registry.count() == len(files) + 1
    assert not any(staged.rglob("*.parquet")) if staged.exists() else True
    (result,) = drain(bus, RESULTS)
    assert parse_envelope(result.value).data["status"] == "published"


def test_the_scan_announces_a_manifest_landed_without_an_event(
    settings: Settings, bus: Any, submissions: Path
) -> None:
    source = submissions / "aire-aps1"
    landing = LocalLanding(Path(settings.landing))
    manifest = (source / "manifest.yaml").read_bytes()
    import hashlib

    sha = hashlib.sha256(manifest).hexdigest()
    files = [(p.name, p) for p in source.iterdir() if p.name != "manifest.yaml"]
    landing.land("aire-aps1", sha, manifest, files)
    assert drain(bus, SUBMISSIONS) == []  # dropped in without an event
    found = scan_landing(settings, bus, landing=settings.landing, min_age_s=0)
    assert [(f.submission_id, f.manifest_sha256) for f in found] == [("aire-aps1", sha)]
    (message,) = drain(bus, SUBMISSIONS)
    assert process_event(message.value, settings, bus).outcome == "published"
    assert scan_landing(settings, bus, landing=settings.landing, min_age_s=0) == []
    young = scan_landing(settings, bus, landing=settings.landing, min_age_s=3600)
    assert young == []
