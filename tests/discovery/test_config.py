"""The Beacon's settings from the service's environment; the privacy rules alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from harmonize.discovery.beacon.config import BeaconSettings, DatasetPolicy, settings_from_env
from harmonize.discovery.beacon.privacy import Budget, protect
from harmonize.errors import ConfigurationError


def test_settings_from_a_file_and_disabled(tmp_path: Path) -> None:
    assert settings_from_env({}) == BeaconSettings()
    assert settings_from_env({"HARMONIZE_BEACON_ENABLED": "false"}) is None
    path = tmp_path / "beacon.yaml"
    path.write_text("threshold: 10\ndatasets:\n  rare: {threshold: 20, rounding: 5}\n")
    settings = settings_from_env({"HARMONIZE_BEACON_FILE": str(path)})
    assert settings is not None
    assert settings.policy("rare") == DatasetPolicy(threshold=20, rounding=5)
    assert settings.policy("other").threshold == 10


def test_a_mistyped_key_names_the_nearest(tmp_path: Path) -> None:
    path = tmp_path / "beacon.yaml"
    path.write_text("treshold: 10\n")
    with pytest.raises(ConfigurationError, match="threshold") as err:
        settings_from_env({"HARMONIZE_BEACON_FILE": str(path)})
    assert err.value.file == str(path)
    with pytest.raises(ConfigurationError, match="did you mean HARMONIZE_BEACON_FILE"):
        settings_from_env({"HARMONIZE_BEACON_FLIE": str(path)})
    with pytest.raises(ConfigurationError, match="true or false"):
        settings_from_env({"HARMONIZE_BEACON_ENABLED": "maybe"})


@pytest.mark.parametrize("count", range(0, 40))
def test_protected_counts_are_zero_or_at_least_the_threshold(count: int) -> None:
    for policy in (DatasetPolicy(), DatasetPolicy(threshold=10, rounding=5)):
        shown = protect(count, policy)
        assert shown.count == 0 or shown.count >= policy.threshold
        assert shown.count <= count
        assert shown.exists == (shown.count > 0)
        if policy.rounding:
            assert shown.count % policy.rounding == 0


def test_budget_is_per_client_and_window() -> None:
    from sqlalchemy import create_engine

    from harmonize.db import upgrade

    engine = create_engine("sqlite://")
    upgrade(engine)
    budget = Budget(engine, 3, 10)
    assert [budget.spend("a", now=t) for t in (0, 1, 2, 3)] == [True, True, True, False]
    assert budget.spend("b", now=3)
    assert budget.spend("a", now=10.5)
    assert Budget(engine, 0, 10).spend("a", now=0)


def test_the_service_serves_the_beacon_unless_disabled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from harmonize.web import app_from_env

    monkeypatch.setenv("HARMONIZE_DRS_WORKSPACE", str(tmp_path))
    beacon = TestClient(app_from_env())
    served = beacon.get("/ga4gh/beacon/v2/info")
    assert served.status_code == 200 and served.json()["response"]["apiVersion"] == "v2.1.1"
    # nothing published yet: an empty answer, not an error
    empty = beacon.get(
        "/ga4gh/beacon/v2/individuals",
        params={"filters": "HP:0001250", "requestedGranularity": "count"},
    ).json()
    assert empty["responseSummary"] == {"exists": False, "numTotalResults": 0}
    assert beacon.get("/ga4gh/beacon/v2/filtering_terms").status_code == 200
    monkeypatch.setenv("HARMONIZE_BEACON_ENABLED", "false")
    assert TestClient(app_from_env()).get("/ga4gh/beacon/v2/info").status_code == 404
