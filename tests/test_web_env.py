"""The service's edge fails closed on mistyped HARMONIZE_DRS_/INTAKE_/DASHBOARD_ variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from harmonize.errors import ConfigurationError
from harmonize.web import app_from_env


def test_a_mistyped_service_variable_stops_the_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``HARMONIZE_DRS_ADMIN_TOKN`` was ignored: the admin API stayed closed, silently."""
    monkeypatch.setenv("HARMONIZE_DRS_WORKSPACE", str(tmp_path))
    monkeypatch.setenv("HARMONIZE_DRS_ADMIN_TOKN", "x" * 32)
    with pytest.raises(ConfigurationError, match="did you mean HARMONIZE_DRS_ADMIN_TOKEN"):
        app_from_env()


def test_intake_and_dashboard_variables_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARMONIZE_DRS_WORKSPACE", str(tmp_path))
    monkeypatch.setenv("HARMONIZE_INTAKE_MAX_FILE_BYTE", "10")
    with pytest.raises(ConfigurationError, match="HARMONIZE_INTAKE_MAX_FILE_BYTES"):
        app_from_env()
    monkeypatch.delenv("HARMONIZE_INTAKE_MAX_FILE_BYTE")
    monkeypatch.setenv("HARMONIZE_DASHBOARD_SECRET", "k" * 40)
    with pytest.raises(ConfigurationError, match="HARMONIZE_DASHBOARD_SECRET_KEY"):
        app_from_env()


def test_known_variables_and_the_client_token_are_fine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARMONIZE_DRS_WORKSPACE", str(tmp_path))
    monkeypatch.setenv("HARMONIZE_DRS_TOKEN", "a client's bearer token")
    assert app_from_env() is not None
