"""The limits are set at the edges (``--limit``, ``HARMONIZE_LIMIT_*``) and fail closed."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from harmonize.cli import app
from harmonize.errors import ConfigurationError
from harmonize.orchestrate.config import settings_from_env
from harmonize.settings import Limits, Settings, limits_from_env, parse_limits


def test_environment_sets_limits() -> None:
    settings = settings_from_env(
        {"HARMONIZE_WORKSPACE": "/tmp/ws", "HARMONIZE_LIMIT_MAX_ROWS": "500"}
    )
    assert settings.limits.max_rows == 500
    assert settings.limits.max_columns == Limits().max_columns


def test_a_mistyped_limit_variable_names_the_nearest() -> None:
    """``HARMONIZE_LIMIT_MAX_ROW=5`` must not leave the default in force unnoticed."""
    with pytest.raises(ConfigurationError, match="did you mean HARMONIZE_LIMIT_MAX_ROWS"):
        limits_from_env({"HARMONIZE_LIMIT_MAX_ROW": "5"})


def test_a_bad_limit_value_names_the_variable() -> None:
    with pytest.raises(ConfigurationError, match="HARMONIZE_LIMIT_MAX_ROWS='-1'"):
        limits_from_env({"HARMONIZE_LIMIT_MAX_ROWS": "-1"})
    with pytest.raises(ConfigurationError, match="max_read_seconds='soon'"):
        parse_limits({"max_read_seconds": "soon"})


def test_limits_refuse_unknown_fields() -> None:
    with pytest.raises(ValueError, match="extra"):
        Limits(max_rowz=1)  # type: ignore[call-arg]


def test_cli_limit_option(tmp_path: Path) -> None:
    runner = CliRunner()
    case = tmp_path / "cases.csv"
    case.write_text("id,name\nP1,x\n")
    wrong = runner.invoke(
        app, ["ingest", str(case), "--profile", "tabular", "--limit", "max_row=3"]
    )
    assert wrong.exit_code == 2 and "did you mean max_rows" in wrong.output
    shapeless = runner.invoke(app, ["ingest", str(case), "--limit", "max_rows"])
    assert shapeless.exit_code == 2 and "NAME=VALUE" in shapeless.output


def test_the_fhir_and_beacon_caps_are_limits() -> None:
    """They were a setting and a constant that neither the environment nor --limit reached."""
    from harmonize.cli.options import limits

    env = settings_from_env(
        {
            "HARMONIZE_LIMIT_MAX_FHIR_DOCUMENT_BYTES": "1000",
            "HARMONIZE_LIMIT_MAX_BEACON_RECORD_CHARS": "2000",
        }
    ).limits
    assert (env.max_fhir_document_bytes, env.max_beacon_record_chars) == (1000, 2000)
    cli = limits(["max_fhir_document_bytes=3000", "max_beacon_record_chars=4000"])
    assert (cli.max_fhir_document_bytes, cli.max_beacon_record_chars) == (3000, 4000)
    assert Limits().max_fhir_document_bytes == 256 * 2**20
    assert Limits().max_beacon_record_chars == 64 * 2**20


def test_the_old_fhir_setting_sets_the_limit() -> None:
    with pytest.warns(DeprecationWarning, match="max_fhir_document_bytes"):
        settings = Settings(max_document_bytes=5, limits=Limits(max_rows=3))
    assert settings.limits.max_fhir_document_bytes == 5 == settings.max_document_bytes
    assert settings.limits.max_rows == 3
