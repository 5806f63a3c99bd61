"""Records need a grant *and* a declared data use that the individuals' consent permits.

The cohorts' consent (tests/discovery/kit.py): aire and chd8 GRU (DUO:0000042), fbxl4 HMB
(DUO:0000006), the controlled mpv17 and suox DS (DUO:0000007). No DUO release is pinned,
so a permission covers exactly itself (and NRES, DUO:0000004, covers every use).
"""

from __future__ import annotations

from typing import Any

import pytest

from harmonize.discovery.beacon.config import BeaconSettings
from tests.discovery.kit import bearer, client

API = "/ga4gh/beacon/v2"
RECORDS = {"filters": "HP:0000118", "requestedGranularity": "record", "limit": 500}


@pytest.fixture(scope="module")
def beacon(store: Any) -> Any:
    """The service with its defaults: a data use is required for records."""
    return client(store.settings, BeaconSettings(recheck_seconds=0, budget_queries=0))


def _datasets(answer: dict[str, Any]) -> set[str]:
    return {s["id"] for s in answer["response"]["resultSets"] if s["results"]}


def test_a_grant_without_a_declared_use_gets_the_public_answer(
    beacon: Any, beacon_schemas: Any
) -> None:
    anonymous = beacon.get(f"{API}/individuals", params={**RECORDS, "datasets": "suox"}).json()
    granted = beacon.get(
        f"{API}/individuals", params={**RECORDS, "datasets": "suox"}, headers=bearer("suox")
    ).json()
    beacon_schemas.response(granted)
    assert granted["meta"]["returnedGranularity"] == "count"
    assert "response" not in granted
    assert granted["responseSummary"] == anonymous["responseSummary"]
    assert "declared data use" in granted["info"]["dataUse"]


def test_a_permitted_use_gets_records_and_another_use_none(
    beacon: Any, beacon_schemas: Any
) -> None:
    params = {**RECORDS, "datasets": "suox"}
    permitted = beacon.get(
        f"{API}/individuals", params={**params, "dataUse": "DUO:0000007"}, headers=bearer("suox")
    ).json()
    beacon_schemas.response(permitted)
    assert permitted["meta"]["returnedGranularity"] == "record"
    assert _datasets(permitted) == {"suox"}
    total = permitted["responseSummary"]["numTotalResults"]
    assert total == len(permitted["response"]["resultSets"][0]["results"]) > 0
    # health/medical research is not what suox's individuals consented to (DS only)
    refused = beacon.get(
        f"{API}/individuals", params={**params, "dataUse": "DUO:0000006"}, headers=bearer("suox")
    ).json()
    beacon_schemas.response(refused)
    assert refused["meta"]["returnedGranularity"] == "count"
    assert "does not permit DUO:0000006" in refused["info"]["dataUse"]
    anonymous = beacon.get(f"{API}/individuals", params=params).json()
    assert refused["responseSummary"] == anonymous["responseSummary"]  # the public rules
    assert refused["responseSummary"]["numTotalResults"] <= total


def test_records_come_only_from_datasets_whose_consent_permits_the_use(beacon: Any) -> None:
    grant = bearer("suox", "fbxl4", "aire")
    hmb = beacon.get(
        f"{API}/individuals", params={**RECORDS, "dataUse": "DUO:0000006"}, headers=grant
    ).json()
    assert _datasets(hmb) == {"fbxl4"}
    assert {s["id"] for s in hmb["response"]["resultSets"]} <= {"fbxl4"}
    # POST: the use in query.requestParameters
    body = {
        "query": {
            "filters": [{"id": "HP:0000118"}],
            "requestedGranularity": "record",
            "pagination": {"limit": 500},
            "requestParameters": {"dataUse": "DUO:0000042"},
        }
    }
    gru = beacon.post(f"{API}/individuals", json=body, headers=grant).json()
    assert _datasets(gru) == {"aire"}


def test_a_bad_data_use_is_an_error_naming_it(beacon: Any, beacon_schemas: Any) -> None:
    for params, named in (
        ({"dataUse": "DUO:9999999"}, "DUO:9999999"),
        ({"dataUse": "DUO:0000021"}, "modifier"),  # IRB is a condition, not a use
        ({"dataUse": "DUO:0000007", "dataUseModifiers": "DUO:0000006"}, "DUO:0000006"),
    ):
        answer = beacon.get(
            f"{API}/individuals", params={**RECORDS, **params}, headers=bearer("suox")
        )
        assert answer.status_code == 400, params
        beacon_schemas.response(answer.json())
        assert named in answer.json()["error"]["errorMessage"]
