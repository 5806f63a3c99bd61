"""The Beacon's endpoints against the official schemas: informational, entries, errors."""

from __future__ import annotations

from typing import Any

import pytest

from tests.discovery.kit import API, bearer

INFORMATIONAL = {
    "": "framework/json/responses/beaconInfoResponse.json",
    "/info": "framework/json/responses/beaconInfoResponse.json",
    "/service-info": "framework/json/responses/ga4gh-service-info-1-0-0-schema.json",
    "/configuration": "framework/json/responses/beaconConfigurationResponse.json",
    "/map": "framework/json/responses/beaconMapResponse.json",
    "/entry_types": "framework/json/responses/beaconEntryTypesResponse.json",
    "/filtering_terms": "framework/json/responses/beaconFilteringTermsResponse.json",
}
MODEL = "models/json/beacon-v2-default-model/"


@pytest.mark.parametrize("path", sorted(INFORMATIONAL))
def test_informational_endpoints_validate(store: Any, beacon_schemas: Any, path: str) -> None:
    answer = store.client.get(f"{API}{path}")
    assert answer.status_code == 200
    beacon_schemas.validate(answer.json(), INFORMATIONAL[path])


def test_filtering_terms_list_the_data_terms_and_pinned_resources(store: Any) -> None:
    answer = store.client.get(f"{API}/filtering_terms").json()["response"]
    ids = {t["id"] for t in answer["filteringTerms"]}
    assert {"HP:0001250", "NCIT:C16576", "NCIT:C20197", "age"} <= ids
    assert any(i.startswith("OMIM:") for i in ids)
    seizure = next(t for t in answer["filteringTerms"] if t["id"] == "HP:0001250")
    assert seizure["label"] == "Seizure" and seizure["scopes"] == ["individual"]
    hp = next(r for r in answer["resources"] if r["nameSpacePrefix"] == "HP")
    assert hp["version"] == "2025-01-16"


def test_records_validate_against_the_default_model(store: Any, beacon_schemas: Any) -> None:
    answer = store.client.get(
        f"{API}/individuals",
        params={"filters": "HP:0001250", "requestedGranularity": "record", "limit": 50},
        headers=bearer("aire", "chd8", "fbxl4", "mpv17", "suox"),
    ).json()
    beacon_schemas.response(answer)
    results = [r for s in answer["response"]["resultSets"] for r in s["results"]]
    assert len(results) == 50
    assert answer["responseSummary"]["numTotalResults"] > 50  # the true total, not the page
    for record in results:
        beacon_schemas.validate(record, MODEL + "individuals/defaultSchema.json")
    datasets = store.client.get(f"{API}/datasets").json()
    beacon_schemas.response(datasets)
    for record in datasets["response"]["collections"]:
        beacon_schemas.validate(record, MODEL + "datasets/defaultSchema.json")


def test_pagination_pages_through_the_true_total(store: Any) -> None:
    grant = bearer("aire")
    params = {"filters": "HP:0000118", "requestedGranularity": "record", "limit": 20}
    seen: list[str] = []
    total = None
    for skip in range(0, 100, 20):
        answer = store.client.get(
            f"{API}/individuals", params={**params, "skip": skip}, headers=grant
        ).json()
        total = answer["responseSummary"]["numTotalResults"]
        seen += [r["id"] for s in answer["response"]["resultSets"] for r in s["results"]]
    assert total == len(seen) == len(set(seen)) == 58


def test_datasets_carry_duo_codes_and_security_levels(store: Any, beacon_schemas: Any) -> None:
    answer = store.client.get(f"{API}/datasets/suox").json()
    beacon_schemas.response(answer)
    (suox,) = answer["response"]["collections"]
    assert suox["info"]["securityLevel"] == "CONTROLLED"
    assert [u["id"] for u in suox["dataUseConditions"]["duoDataUse"]] == ["DUO:0000007"]
    aire = store.client.get(f"{API}/datasets/aire").json()["response"]["collections"][0]
    assert aire["info"]["securityLevel"] == "PUBLIC"
    assert aire["dataUseConditions"]["duoDataUse"][0]["label"] == "general research use"
    missing = store.client.get(f"{API}/datasets/nope")
    assert missing.status_code == 404
    beacon_schemas.response(missing.json())


def test_dataset_individuals_and_individual_variants(store: Any, beacon_schemas: Any) -> None:
    grant = bearer("aire")
    people = store.client.get(
        f"{API}/datasets/aire/individuals",
        params={"requestedGranularity": "record", "limit": 1},
        headers=grant,
    ).json()
    beacon_schemas.response(people)
    assert people["responseSummary"]["numTotalResults"] == 58
    person = people["response"]["resultSets"][0]["results"][0]["id"]
    variants = store.client.get(
        f"{API}/individuals/{person}/g_variants",
        params={"requestedGranularity": "record"},
        headers=grant,
    ).json()
    beacon_schemas.response(variants)
    records = variants["response"]["resultSets"][0]["results"]
    assert records and all(r["molecularAttributes"]["geneIds"] == ["AIRE"] for r in records)
    one = store.client.get(
        f"{API}/individuals/{person}", params={"requestedGranularity": "record"}, headers=grant
    ).json()
    assert [r["id"] for s in one["response"]["resultSets"] for r in s["results"]] == [person]


def test_g_variants_by_gene_and_allele(store: Any, beacon_schemas: Any) -> None:
    grant = bearer("aire")
    by_gene = store.client.post(
        f"{API}/g_variants",
        json={
            "query": {
                "requestParameters": {"geneId": "AIRE"},
                "requestedGranularity": "record",
                "pagination": {"limit": 100},
            }
        },
        headers=grant,
    ).json()
    beacon_schemas.response(by_gene)
    alleles = [
        r["variantInternalId"] for s in by_gene["response"]["resultSets"] for r in s["results"]
    ]
    assert "NM_000383.4:c.769C>T" in alleles
    assert by_gene["responseSummary"]["numTotalResults"] == len(alleles)
    one = store.client.get(
        f"{API}/g_variants",
        params={"genomicAlleleShortForm": "NM_000383.4:c.769C>T", "requestedGranularity": "record"},
        headers=grant,
    ).json()
    (record,) = [r for s in one["response"]["resultSets"] for r in s["results"]]
    assert record["variantInternalId"] == "NM_000383.4:c.769C>T" and record["info"]["carriers"] > 5
    # no hgvs.g in these cohorts: a coordinate query is understood and finds nothing
    where = store.client.get(
        f"{API}/g_variants",
        params={"referenceName": "21", "start": "44286615", "requestedGranularity": "count"},
        headers=grant,
    ).json()
    beacon_schemas.response(where)
    assert where["responseSummary"] == {"exists": False, "numTotalResults": 0}


@pytest.mark.parametrize(
    ("filters", "named"),
    [
        ("HP:9999999", "HP:9999999"),  # unknown term of the pinned release
        ("XYZ:123", "XYZ:123"),  # unknown prefix
        ("seizures", "seizures"),  # not a CURIE
        ("age:>=ten", "age"),  # malformed value
        ("age", "age"),  # a field without operator
        ("NCIT:C99999", "NCIT:C99999"),  # not a sex term
        ("FOO:1:>3", "FOO:1"),  # unknown alphanumeric field
        ("OMIM:12", "OMIM:12"),  # not of OMIM's id syntax
    ],
)
def test_a_bad_filter_gets_an_error_naming_it(
    store: Any, beacon_schemas: Any, filters: str, named: str
) -> None:
    answer = store.client.get(f"{API}/individuals", params={"filters": filters})
    assert answer.status_code == 400
    body = answer.json()
    beacon_schemas.response(body)
    assert f"filter {named!r}" in body["error"]["errorMessage"]


def test_similarity_other_than_exact_is_refused(store: Any, beacon_schemas: Any) -> None:
    body = {"query": {"filters": [{"id": "HP:0001250", "similarity": "high"}]}}
    answer = store.client.post(f"{API}/individuals", json=body)
    assert answer.status_code == 400
    beacon_schemas.response(answer.json())
    assert "similarity 'high' is not supported" in answer.json()["error"]["errorMessage"]


def test_bad_requests_are_beacon_errors(store: Any, beacon_schemas: Any) -> None:
    for params in (
        {"requestedGranularity": "everything"},
        {"skip": "-1"},
        {"limit": "100000"},
        {"datasets": "nope"},
    ):
        answer = store.client.get(f"{API}/individuals", params=params)
        assert answer.status_code == 400, params
        beacon_schemas.response(answer.json())
    broken = store.client.post(
        f"{API}/individuals", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert broken.status_code == 400
    beacon_schemas.response(broken.json())


def test_an_oversized_body_is_refused(store: Any, beacon_schemas: Any) -> None:
    filters = [{"id": "HP:0001250"}] * 20_000
    answer = store.client.post(f"{API}/individuals", json={"query": {"filters": filters}})
    assert answer.status_code == 413
    beacon_schemas.response(answer.json())


def test_an_alt_id_expands_as_its_primary_term(store: Any) -> None:
    grant = bearer("aire", "chd8", "fbxl4", "mpv17", "suox")

    def count(term: str) -> int:
        answer = store.client.get(
            f"{API}/individuals",
            params={"filters": term, "requestedGranularity": "count"},
            headers=grant,
        ).json()
        return int(answer["responseSummary"]["numTotalResults"])

    assert count("HP:0001275") == count("HP:0001250") > 0  # HP:0001275: an alt_id of Seizure


@pytest.mark.parametrize(
    ("include", "expected"),
    [("HIT", ["aire"]), ("MISS", ["suox"]), ("ALL", ["aire", "suox"]), ("NONE", [])],
)
def test_include_resultset_responses(
    store: Any, beacon_schemas: Any, include: str, expected: list[str]
) -> None:
    answer = store.client.get(
        f"{API}/individuals",
        params={
            "filters": "OMIM:240300",  # APS1: the AIRE cohort only
            "requestedGranularity": "record",
            "includeResultsetResponses": include,
            "datasets": "aire,suox",
        },
        headers=bearer("aire", "suox"),
    ).json()
    beacon_schemas.response(answer)
    assert [s["id"] for s in answer["response"]["resultSets"]] == expected
    assert answer["responseSummary"]["numTotalResults"] > 0
