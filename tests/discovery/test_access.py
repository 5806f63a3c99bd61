"""Who sees what: anonymous callers get protected counts, grantees records of their datasets."""

from __future__ import annotations

from collections import Counter
from typing import Any

from harmonize.discovery.beacon.config import BeaconSettings, DatasetPolicy
from tests.discovery.kit import API, bearer, client
from tests.discovery.test_counts import people
from tests.drs.passport_kit import KIT, ROGUE


def _terms(store: Any) -> list[str]:
    answer = store.client.get(f"{API}/filtering_terms").json()["response"]
    return [t["id"] for t in answer["filteringTerms"] if t["type"] == "ontologyTerm"]


def test_anonymous_never_sees_a_record_nor_a_count_from_1_to_4(
    store: Any, beacon_schemas: Any
) -> None:
    terms = _terms(store)
    assert len(terms) > 100
    shown: Counter[bool] = Counter()
    for number, term in enumerate(terms):
        for granularity in ("count", "record", "boolean")[: 3 if number < 50 else 2]:
            answer = store.client.get(
                f"{API}/individuals",
                params={"filters": term, "requestedGranularity": granularity},
            ).json()
            assert "response" not in answer, (term, granularity)
            assert answer["meta"]["returnedGranularity"] != "record"
            count = answer["responseSummary"].get("numTotalResults")
            assert count is None or not 1 <= count <= 4, term
            if count is not None:
                assert answer["responseSummary"]["exists"] == (count > 0)
            shown[answer["responseSummary"]["exists"]] += 1
        beacon_schemas.response(answer)
    assert shown[True] and shown[False]


def test_a_term_carried_by_two_answers_exists_false(store: Any, beacon_schemas: Any) -> None:
    truth = people(store.settings.workspace)
    carried = Counter(t for p in truth for t in p.features)
    # a leaf carried by exactly two individuals, and by no one else through descendants
    term = next(t for t, n in sorted(carried.items()) if n == 2 and t.startswith("HP:"))
    grant = store.client.get(
        f"{API}/individuals",
        params={"filters": term, "requestedGranularity": "count"},
        headers=bearer("aire", "chd8", "fbxl4", "mpv17", "suox"),
    ).json()
    true_count = grant["responseSummary"]["numTotalResults"]
    assert 1 <= true_count <= 4
    for granularity in ("boolean", "count"):
        answer = store.client.get(
            f"{API}/individuals", params={"filters": term, "requestedGranularity": granularity}
        ).json()
        beacon_schemas.response(answer)
        assert answer["responseSummary"]["exists"] is False
        assert answer["responseSummary"].get("numTotalResults", 0) == 0
        assert "small-count suppression" in answer["info"]["smallCountSuppression"]
    # the note is there for a true zero too, so its presence tells nothing
    nothing = store.client.get(
        f"{API}/individuals", params={"filters": "HP:0000006", "requestedGranularity": "count"}
    ).json()
    assert nothing["info"]["smallCountSuppression"] == answer["info"]["smallCountSuppression"]


def test_without_a_visa_no_records_and_with_one_records_of_that_dataset_only(
    store: Any, beacon_schemas: Any
) -> None:
    params = {"filters": "HP:0000118", "requestedGranularity": "record", "limit": 500}
    # a visa for another dataset than the controlled ones, or none at all: no suox records
    for headers in ({}, bearer("unrelated")):
        answer = store.client.get(
            f"{API}/datasets/suox/individuals", params=params, headers=headers
        )
        assert answer.status_code == 200
        body = answer.json()
        assert "response" not in body and body["meta"]["returnedGranularity"] == "count"
    granted = store.client.get(f"{API}/individuals", params=params, headers=bearer("suox")).json()
    beacon_schemas.response(granted)
    sets = granted["response"]["resultSets"]
    assert [s["id"] for s in sets] == ["suox"]
    assert {r["info"]["datasetId"] for r in sets[0]["results"]} == {"suox"}
    truth = people(store.settings.workspace)
    assert granted["responseSummary"]["numTotalResults"] == len(sets[0]["results"])
    assert len(sets[0]["results"]) == sum(p.dataset == "suox" and bool(p.features) for p in truth)
    # one individual of another dataset is not found for this caller
    aire = store.client.get(
        f"{API}/datasets/aire/individuals",
        params={"requestedGranularity": "record", "limit": 1},
        headers=bearer("aire"),
    ).json()
    someone = aire["response"]["resultSets"][0]["results"][0]["id"]
    hidden = store.client.get(
        f"{API}/individuals/{someone}",
        params={"requestedGranularity": "record"},
        headers=bearer("suox"),
    )
    assert hidden.status_code == 404
    beacon_schemas.response(hidden.json())
    anonymous = store.client.get(f"{API}/individuals/{someone}").json()
    assert anonymous["responseSummary"]["exists"] is False  # one person is a small count


def test_untrusted_credentials_are_refused(store: Any, beacon_schemas: Any) -> None:
    rogue = KIT.passport([KIT.visa("suox")], issuer=KIT.rogue)
    for token in ("not-a-jwt", rogue):
        answer = store.client.get(
            f"{API}/individuals",
            params={"requestedGranularity": "record"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 401
        beacon_schemas.response(answer.json())
    assert KIT.rogue.name == ROGUE


def test_rounding_budget_and_filter_limit(store: Any, beacon_schemas: Any) -> None:
    settings = BeaconSettings(
        recheck_seconds=0,
        rounding=5,
        max_filters=2,
        budget_queries=4,
        datasets={"aire": DatasetPolicy(threshold=60, anonymous_granularity="boolean")},
    )
    beacon = client(store.settings, settings)
    counted = beacon.get(
        f"{API}/individuals",
        params={"filters": "HP:0000118", "requestedGranularity": "count", "datasets": "chd8,suox"},
    ).json()
    assert counted["responseSummary"]["numTotalResults"] % 5 == 0
    assert counted["responseSummary"]["numTotalResults"] == 75 + 30  # 78 -> 75, 34 -> 30
    # aire: 58 people are below its threshold of 60, and it allows booleans only
    aire = beacon.get(
        f"{API}/individuals",
        params={"filters": "HP:0000118", "requestedGranularity": "count", "datasets": "aire"},
    ).json()
    assert aire["meta"]["returnedGranularity"] == "boolean"
    assert aire["responseSummary"] == {"exists": False}
    too_many = beacon.get(
        f"{API}/individuals", params={"filters": "HP:0000118,HP:0001250,NCIT:C16576"}
    )
    assert too_many.status_code == 400
    assert "at most 2" in too_many.json()["error"]["errorMessage"]
    beacon.get(f"{API}/individuals")
    spent = beacon.get(f"{API}/individuals")
    assert spent.status_code == 429
    beacon_schemas.response(spent.json())
    # another client (another token) has its own budget
    assert beacon.get(f"{API}/individuals", headers=bearer("aire")).status_code == 200


def test_concurrent_queries_agree(store: Any) -> None:
    """Eight threads share one snapshot's connection, each through its own cursor."""
    from concurrent.futures import ThreadPoolExecutor

    from harmonize.discovery.beacon.request import from_get

    beacon = store.client.app.state.beacon.beacon()
    grants = frozenset(f"https://example.org/harmonize/datasets/{d}" for d in ("aire", "suox"))
    terms = ["HP:0000118", "HP:0001250", "HP:0000707", "OMIM:240300", "NCIT:C16576"] * 8

    def count(term: str) -> int:
        query = from_get("individuals", {"filters": term, "requestedGranularity": "count"})
        return int(beacon.answer(query, grants)["responseSummary"]["numTotalResults"])

    alone = {term: count(term) for term in set(terms)}
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(count, terms))
    assert together == [alone[t] for t in terms]
