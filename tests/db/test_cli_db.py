"""``harmonize db upgrade`` / ``current`` on both back ends."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from harmonize.cli import app
from harmonize.db import current_revision, head_revision

runner = CliRunner()


def test_db_upgrade_by_url(database_url: str) -> None:
    assert runner.invoke(app, ["db", "current", "--url", database_url]).output == "none\n"
    first = runner.invoke(app, ["db", "upgrade", "--url", database_url])
    assert first.exit_code == 0, first.output
    assert f"upgraded from empty to revision {head_revision()}" in first.output
    again = runner.invoke(app, ["db", "upgrade", "--url", database_url])
    assert again.exit_code == 0 and "already at revision" in again.output
    assert current_revision(database_url) == head_revision()
    shown = runner.invoke(app, ["db", "current", "--url", database_url]).output
    assert shown == f"{head_revision()} (head)\n"


def test_db_upgrade_workspace(tmp_path: Path) -> None:
    assert runner.invoke(app, ["db", "current", "-w", str(tmp_path / "ws")]).output == "none\n"
    assert not (tmp_path / "ws").exists()  # asking created nothing
    result = runner.invoke(app, ["db", "upgrade", "-w", str(tmp_path / "ws")])
    assert result.exit_code == 0, result.output
    assert current_revision(f"sqlite:///{tmp_path / 'ws' / 'registry.sqlite'}") == head_revision()


def test_db_upgrade_unreachable_is_transient(postgres_url: str) -> None:
    unreachable = postgres_url.replace("/harmonize", "/no_such_database")
    result = runner.invoke(app, ["db", "upgrade", "--url", unreachable])
    assert result.exit_code == 3
    assert "no_such_database" in result.output


def test_db_upgrade_url_and_workspace_conflict(tmp_path: Path) -> None:
    result = runner.invoke(app, ["db", "upgrade", "--url", "sqlite://", "-w", str(tmp_path)])
    assert result.exit_code == 2
