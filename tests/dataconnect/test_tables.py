"""GET /tables, /table/{name}/info and /table/{name}/data: who reads which rows, paging, schemas."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from harmonize.warehouse import TABLES
from tests.dataconnect.conftest import API, ISOD, OTHER, PUBLIC, Published, bearer, individuals
from tests.dataconnect.spec import LOCAL, Schemas, localize


def names(client: TestClient, headers: dict[str, str] | None = None) -> list[str]:
    response = client.get(f"{API}/tables", headers=headers or {})
    assert response.status_code == 200, response.text
    return [table["name"] for table in response.json()["tables"]]


def all_rows(client: TestClient, name: str, spec: Schemas, **headers: str) -> list[dict[str, Any]]:
    """Every row of a table, following next_page_url; each page checked against the spec."""
    rows: list[dict[str, Any]] = []
    url: str | None = f"{API}/table/{name}/data"
    models = []
    while url is not None:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        spec.check(page, "TableData")
        models.append(page["data_model"])
        rows += page["data"]
        url = page.get("pagination", {}).get("next_page_url")
    assert all(model == models[0] for model in models)  # identical across the sequence
    return rows


def test_the_local_spec_is_api_yaml_with_local_refs() -> None:
    assert json.loads(LOCAL.read_text()) == localize()


def test_anonymous_callers_see_public_datasets_only(client: TestClient, spec: Schemas) -> None:
    listing = client.get(f"{API}/tables").json()
    spec.check(listing, "ListTablesResponse")
    assert names(client) == [*TABLES, *(f"{PUBLIC}.{t}" for t in TABLES)]
    assert f"{ISOD}.individuals" not in names(client)
    detail = spec.error(client.get(f"{API}/table/{ISOD}.individuals/info"), 404)
    assert "GET /tables" in detail
    spec.error(client.get(f"{API}/table/{ISOD}.individuals/data"), 404)


def test_a_visa_opens_its_dataset_and_no_other(client: TestClient) -> None:
    seen = names(client, bearer(ISOD))
    assert f"{ISOD}.individuals" in seen and f"{PUBLIC}.individuals" in seen
    assert not any(name.startswith(OTHER) for name in seen)


def test_info_is_the_json_schema_of_the_table_format(client: TestClient, spec: Schemas) -> None:
    for name in ("individuals", f"{PUBLIC}.variants"):
        info = client.get(f"{API}/table/{name}/info").json()
        spec.check(info, "Table")
        assert info["name"] == name
        properties = info["data_model"]["properties"]
        assert {"submission_id", "dataset", "phenopacket_id"} <= set(properties)
    model = client.get(f"{API}/table/individuals/info").json()["data_model"]
    assert model["properties"]["consent"]["items"] == {"type": ["string", "null"]}
    assert model["properties"]["source_row"] == {"type": ["string", "null"]}  # int64: a string
    spec.error(client.get(f"{API}/table/no_such_table/info"), 404)


def test_rows_page_through_every_readable_row(
    make_client: Callable[..., TestClient], published: Published, spec: Schemas
) -> None:
    client = make_client(page_size=3)
    public = individuals(published.settings, PUBLIC)
    isod = individuals(published.settings, ISOD)
    assert len(public) > 3 and len(isod) > 3  # several pages each
    anonymous = all_rows(client, "individuals", spec)
    assert {row["phenopacket_id"] for row in anonymous} == public
    assert len(anonymous) == len(public)
    assert {row["dataset"] for row in anonymous} == {PUBLIC}
    granted = all_rows(client, "individuals", spec, **bearer(ISOD))
    assert {(r["dataset"], r["phenopacket_id"]) for r in granted} == {
        *((PUBLIC, p) for p in public),
        *((ISOD, p) for p in isod),
    }
    one = all_rows(client, f"{ISOD}.individuals", spec, **bearer(ISOD))
    assert {row["phenopacket_id"] for row in one} == isod
    features = all_rows(client, f"{ISOD}.phenotypic_features", spec, **bearer(ISOD))
    assert features and {row["dataset"] for row in features} == {ISOD}


def test_a_page_token_does_not_open_another_table(
    make_client: Callable[..., TestClient], spec: Schemas
) -> None:
    client = make_client(page_size=2)
    first = client.get(f"{API}/table/{ISOD}.individuals/data", headers=bearer(ISOD)).json()
    url = first["pagination"]["next_page_url"]
    spec.error(client.get(url), 404)  # the same page without the visa
    token = url.split("page_token=")[1]
    spec.error(client.get(f"{API}/table/diseases/data?page_token={token}"), 400)
    spec.error(client.get(f"{API}/table/individuals/data?page_token=garbage"), 400)


def test_an_untrusted_token_is_refused(client: TestClient, spec: Schemas) -> None:
    from tests.drs.passport_kit import KIT

    forged = KIT.passport([KIT.visa(ISOD)], issuer=KIT.rogue)
    response = client.get(f"{API}/tables", headers={"Authorization": f"Bearer {forged}"})
    assert "not trusted" in spec.error(response, 401)


def test_service_info(client: TestClient, spec: Schemas) -> None:
    info = client.get(f"{API}/service-info").json()
    spec.check(info, "Service")
    assert info["type"] == {"group": "org.ga4gh", "artifact": "data-connect", "version": "1.0.0"}
