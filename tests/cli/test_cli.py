"""The ``harmonize`` command: exit codes, messages, and a light ``--help``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harmonize.cli import app

runner = CliRunner()


def test_help_imports_nothing_heavy() -> None:
    """``harmonize --help`` must answer at once: no data or web library is imported for it."""
    code = (
        "import sys; from harmonize.cli import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('pyarrow', 'great_expectations', 'pandas', 'fastapi', 'pronto',"
        " 'sqlalchemy', 'openpyxl', 'rich.markdown') if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout, out.stdout
    assert "ingest" in out.stdout and "serve" in out.stdout and "validate" in out.stdout


def test_usage_error_exits_2() -> None:
    result = runner.invoke(app, ["ingest"])
    assert result.exit_code == 2
    result = runner.invoke(app, ["ingest", "x.csv", "--on-conflict", "maybe"])
    assert result.exit_code == 2 and "keep-observed" in result.output


@pytest.mark.integration
def test_ingest_exit_codes(tmp_path: Path, submissions: Path) -> None:
    ws = tmp_path / "ws"
    ok = runner.invoke(app, ["ingest", str(submissions / "suox-isod"), "-w", str(ws)])
    assert ok.exit_code == 0, ok.output
    assert "published suox-isod" in ok.output and "DRS bundle" in ok.output
    again = runner.invoke(app, ["ingest", str(submissions / "suox-isod"), "-w", str(ws)])
    assert again.exit_code == 0 and "already published" in again.output
    bad = runner.invoke(app, ["ingest", str(submissions / "aire-aps1"), "-w", str(ws)])
    assert bad.exit_code == 1
    assert "rejected aire-aps1" in bad.output and "report.html" in bad.output
    lenient = runner.invoke(
        app,
        ["ingest", str(submissions / "aire-aps1"), "-w", str(ws), "--on-conflict", "keep-observed"],
    )
    assert lenient.exit_code == 0, lenient.output
