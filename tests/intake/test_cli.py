"""harmonize submit and harmonize events, as a submitter and an operator run them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from harmonize.cli import app
from harmonize.events import DLQ, LocalEventLog, send_to_dlq, submission_created

runner = CliRunner()


def test_submit_then_tail(clinic: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    result = runner.invoke(app, ["submit", str(clinic), "--workspace", str(ws)])
    assert result.exit_code == 0, result.output
    assert "submitted clinic-2026-11" in result.output
    assert str(ws / "landing" / "clinic-2026-11") in result.output
    tail = runner.invoke(
        app, ["events", "tail", "harmonize.submissions", "-w", str(ws), "--timeout", "0.2"]
    )
    assert tail.exit_code == 0, tail.output
    [line] = tail.output.strip().splitlines()
    message = json.loads(line)
    assert message["key"] == "clinic-2026-11"
    assert message["value"]["type"] == "org.ga4gh.harmonize.submission.created"
    # tail never commits: the worker's group still gets the event
    log = LocalEventLog(ws / "events")
    assert (
        len(log.consume("harmonize.submissions", group="worker", timeout_s=0, max_messages=5)) == 1
    )
    log.close()


def test_submit_with_explicit_bus_and_landing(clinic: Path, tmp_path: Path) -> None:
    events, landing = tmp_path / "bus", tmp_path / "landing-zone"
    result = runner.invoke(
        app,
        [
            "submit",
            str(clinic),
            "-w",
            str(tmp_path / "ws"),
            "--events",
            events.as_uri(),
            "--landing",
            str(landing),
        ],
    )
    assert result.exit_code == 0, result.output
    assert (landing / "clinic-2026-11").is_dir()
    assert LocalEventLog(events).end_offset("harmonize.submissions") == 1


def test_submit_of_a_broken_submission_exits_1(clinic: Path, tmp_path: Path) -> None:
    (clinic / "mapping.yaml").unlink()
    result = runner.invoke(app, ["submit", str(clinic), "-w", str(tmp_path / "ws")])
    assert result.exit_code == 1
    assert "mapping" in result.output


def test_replay_dlq_command(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    bus = LocalEventLog(ws / "events")
    event = submission_created("sub-1", "/l/sub-1/manifest.yaml", "ab" * 32, source="urn:t")
    send_to_dlq(bus, event.to_bytes(), "landing store was down", key="sub-1")
    send_to_dlq(bus, b"nonsense", "not JSON")
    result = runner.invoke(app, ["events", "replay-dlq", "-w", str(ws), "--timeout", "0.2"])
    assert result.exit_code == 0, result.output
    assert f"replayed {DLQ}:0:0" in result.output
    assert "1 replayed, 1 still malformed" in result.output
    [msg] = bus.consume("harmonize.submissions", group="w", timeout_s=0, max_messages=5)
    assert msg.value == event.to_bytes()
