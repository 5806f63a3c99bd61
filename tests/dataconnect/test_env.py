"""``harmonize serve`` reads Data Connect's limits from HARMONIZE_DATACONNECT_* variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from harmonize.errors import ConfigurationError
from harmonize.web import app_from_env


def test_limits_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARMONIZE_DRS_WORKSPACE", str(tmp_path))
    monkeypatch.setenv("HARMONIZE_DATACONNECT_PAGE_SIZE", "7")
    monkeypatch.setenv("HARMONIZE_DATACONNECT_TIMEOUT_SECONDS", "2.5")
    monkeypatch.setenv("HARMONIZE_DATACONNECT_MEMORY_LIMIT", "1GB")
    settings = app_from_env().state.data_connect.settings
    assert (settings.page_size, settings.timeout_seconds, settings.memory_limit) == (7, 2.5, "1GB")
    assert settings.threads == 1  # the default stays


def test_a_mistyped_variable_stops_the_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARMONIZE_DRS_WORKSPACE", str(tmp_path))
    monkeypatch.setenv("HARMONIZE_DATACONNECT_TIMEOUT", "1")
    with pytest.raises(ConfigurationError, match="HARMONIZE_DATACONNECT_TIMEOUT_SECONDS"):
        app_from_env()
