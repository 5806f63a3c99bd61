"""``harmonize worker`` takes ingest's policy flags; the DAGs set the same from the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from harmonize.cli import app
from harmonize.errors import ConfigurationError
from harmonize.events import RESULTS, open_bus, parse_envelope
from harmonize.intake import submit
from harmonize.orchestrate.config import settings_from_env
from harmonize.settings import Settings
from tests.orchestrate.conftest import drain

POLICIES = ("on_conflict", "unmapped", "obsolete", "low_confidence")


def _params(command: str) -> dict[str, Any]:
    group: Any = typer.main.get_command(app)
    return {p.name: p for p in group.commands[command].params}


@pytest.mark.parametrize("name", POLICIES)
def test_the_worker_has_ingests_policy_flags(name: str) -> None:
    ingest, worker = _params("ingest")[name], _params("worker")[name]
    assert ingest.opts == [f"--{name.replace('_', '-')}"]
    assert (worker.opts, worker.help, worker.default) == (ingest.opts, ingest.help, ingest.default)


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list[Settings]:
    """The settings the worker would run with (run_worker replaced: no pipeline runs)."""
    from harmonize.orchestrate import worker
    from harmonize.orchestrate.worker import WorkerStats

    seen: list[Settings] = []

    def fake_run_worker(settings: Settings, bus: Any, **_: Any) -> WorkerStats:
        seen.append(settings)
        return WorkerStats()

    monkeypatch.setattr(worker, "run_worker", fake_run_worker)
    return seen


def test_the_flags_reach_the_workers_settings(tmp_path: Path, captured: list[Settings]) -> None:
    ws = ["worker", "-w", str(tmp_path / "ws"), "--once"]
    runner = CliRunner()
    assert runner.invoke(app, ws, catch_exceptions=False).exit_code == 0
    lenient = [
        *("--on-conflict", "keep-observed", "--unmapped", "flag"),
        *("--obsolete", "reject", "--low-confidence", "accept"),
    ]
    assert runner.invoke(app, ws + lenient, catch_exceptions=False).exit_code == 0
    default, chosen = captured
    policies = ("on_conflict", "unmapped_policy", "obsolete", "low_confidence")
    assert [getattr(default, f) for f in policies] == ["reject", "reject", "replace", "review"]
    assert [getattr(chosen, f) for f in policies] == ["keep-observed", "flag", "reject", "accept"]
    assert chosen.workspace == tmp_path / "ws"


def test_an_unknown_policy_is_a_usage_error(tmp_path: Path, captured: list[Settings]) -> None:
    out = CliRunner().invoke(app, ["worker", "-w", str(tmp_path), "--unmapped", "ignore"])
    assert out.exit_code == 2
    assert "--unmapped" in out.output and "reject, flag, drop" in out.output
    assert captured == []


def test_settings_from_env_maps_the_policy_variables(tmp_path: Path) -> None:
    env = {
        "HARMONIZE_WORKSPACE": str(tmp_path),
        "HARMONIZE_ON_CONFLICT": "keep-observed",
        "HARMONIZE_UNMAPPED_POLICY": "drop",
        "HARMONIZE_LOW_CONFIDENCE": "accept",
        "HARMONIZE_OBSOLETE": "reject",
    }
    settings = settings_from_env(env)
    assert (
        settings.on_conflict,
        settings.unmapped_policy,
        settings.low_confidence,
        settings.obsolete,
    ) == ("keep-observed", "drop", "accept", "reject")
    unset = settings_from_env({"HARMONIZE_WORKSPACE": str(tmp_path)})
    assert (unset.unmapped_policy, unset.low_confidence, unset.obsolete) == (
        "reject",
        "review",
        "replace",
    )


def test_a_bad_policy_variable_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="HARMONIZE_UNMAPPED_POLICY='ignore'") as info:
        settings_from_env(
            {"HARMONIZE_WORKSPACE": str(tmp_path), "HARMONIZE_UNMAPPED_POLICY": "ignore"}
        )
    assert not info.value.transient
    assert info.value.value == "ignore"


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize(
    ("flags", "outcome"),
    [([], "rejected"), (["--on-conflict", "keep-observed"], "published")],
    ids=["default", "keep-observed"],
)
def test_the_on_conflict_flag_decides_the_aire_cohort(
    tmp_path: Path, submissions: Path, flags: list[str], outcome: str
) -> None:
    """AIRE has observed terms with excluded ancestors: rejected by default (as in the demo)."""
    settings = Settings(workspace=tmp_path / "ws")
    created = submit(submissions / "aire-aps1", settings)
    out = CliRunner().invoke(
        app,
        ["worker", "--workspace", str(settings.workspace), "--once", *flags],
        catch_exceptions=False,
    )
    assert out.exit_code == 0, out.output
    assert f"{outcome} aire-aps1" in out.output
    bus = open_bus(settings.events)
    try:
        (result,) = drain(bus, RESULTS)
    finally:
        bus.close()
    data = parse_envelope(result.value).data
    assert (data["submission_id"], data["status"]) == (created.submission_id, outcome)


def test_the_shared_service_options_reach_the_workers_settings(
    tmp_path: Path, captured: list[Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARMONIZE_EVENTS_URL", str(tmp_path / "events"))
    monkeypatch.setenv("HARMONIZE_WAREHOUSE", "s3://bucket/warehouse")
    args = ["worker", "-w", str(tmp_path / "ws"), "--once"]
    args += ["--registry-url", "postgresql+psycopg://db:5432/hz"]
    args += ["--landing", "s3://bucket/landing", "--s3-endpoint-url", "http://10.0.0.1:9000"]
    assert CliRunner().invoke(app, args, catch_exceptions=False).exit_code == 0
    (chosen,) = captured
    assert chosen.events == str(tmp_path / "events")
    assert chosen.registry == "postgresql+psycopg://db:5432/hz"
    assert chosen.warehouse_url == "s3://bucket/warehouse"
    assert chosen.landing == "s3://bucket/landing"
    assert chosen.s3_endpoint_url == "http://10.0.0.1:9000"
