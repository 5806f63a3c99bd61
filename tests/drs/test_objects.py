"""The DRS read API: service-info, objects, bundles and bulk lookups, checked against the
compliance-suite schemas (v1.3.0) and the official DRS 1.5.0 OpenAPI components."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest
from fastapi.testclient import TestClient

from harmonize.drs.app import app_from_env
from harmonize.drs.ids import bundle_id
from harmonize.drs.links import API_PREFIX as API
from harmonize.drs.registry import BundleSpec


def _created(value: str) -> datetime:
    assert value.endswith("Z"), value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_service_info(client: TestClient, published: Any, schemas: Any) -> None:
    response = client.get(f"{API}/service-info")
    assert response.status_code == 200
    info = response.json()
    schemas.check_openapi(info, "components/schemas/Service")
    schemas.check_openapi(info, "components/schemas/DrsService")
    assert info["type"] == {"group": "org.ga4gh", "artifact": "drs", "version": "1.5.0"}
    assert info["maxBulkRequestLength"] == 1000
    assert info["drs"] == {
        "maxBulkRequestLength": 1000,
        "objectCount": 6,
        "totalObjectSize": sum(len(data) for data in published.contents.values()),
    }


def test_service_info_counts_follow_registrations(
    client: TestClient, published: Any, make_spec: Callable[..., Any], write_file: Any
) -> None:
    data = b"late file\n"
    write_file(published.workspace, "published/late.txt", data)
    late = make_spec("late.txt", "published/late.txt", "text/plain", "report", data)
    published.registry.register([late])
    published.registry.register([late])
    section = client.get(f"{API}/service-info").json()["drs"]
    assert section["objectCount"] == 7
    published.registry.mark_deleted([late.id])
    assert client.get(f"{API}/service-info").json()["drs"]["objectCount"] == 6


def test_blob_shape(client: TestClient, published: Any, schemas: Any) -> None:
    spec = published.objects["cases.parquet"]
    response = client.get(f"{API}/objects/{spec.id}")
    assert response.status_code == 200, response.text
    body = response.json()
    schemas.check_drs_object(body)
    assert body["id"] == spec.id
    assert body["name"] == "cases.parquet"
    assert body["self_uri"] == f"drs://drs.example.org/{spec.id}"
    assert body["size"] == len(published.contents["cases.parquet"])
    assert body["mime_type"] == "application/vnd.apache.parquet"
    assert body["checksums"] == [
        {
            "checksum": hashlib.sha256(published.contents["cases.parquet"]).hexdigest(),
            "type": "sha-256",
        }
    ]
    assert _created(body["created_time"]) == spec.created_time
    assert body["created_time"] == "2024-05-01T12:30:00Z"
    assert body["updated_time"] == body["created_time"]
    assert body["version"] == spec.sha256
    assert body["description"] == spec.description
    assert body["aliases"] == ["harmonize:s1/cases.parquet"]
    assert "contents" not in body
    methods = {method["type"]: method for method in body["access_methods"]}
    assert methods["https"] == {"type": "https", "access_id": "https"}
    file_url = methods["file"]["access_url"]["url"]
    expected = (published.workspace / spec.path).resolve()
    assert file_url == expected.as_uri()
    assert Path(unquote(urlparse(file_url).path)).read_bytes() == published.contents[spec.name]


def test_self_uri_host_defaults_to_the_request_host(
    make_client: Callable[..., TestClient], published: Any
) -> None:
    client = make_client(hostname=None, expose_file_urls=False)
    spec = published.objects["P1.json"]
    body = client.get(f"{API}/objects/{spec.id}", headers={"host": "drs.local:8080"}).json()
    assert body["self_uri"] == f"drs://drs.local:8080/{spec.id}"
    assert [method["type"] for method in body["access_methods"]] == ["https"]


def test_post_object_accepts_passports(
    client: TestClient, published: Any, schemas: Any, kit: Any
) -> None:
    spec = published.objects["P1.json"]
    passport = kit.passport([kit.visa("demo")])
    response = client.post(f"{API}/objects/{spec.id}", json={"passports": [passport]})
    assert response.status_code == 200, response.text
    schemas.check_drs_object(response.json())
    assert client.post(f"{API}/objects/{spec.id}", json={}).json()["id"] == spec.id
    # the specification requires a body; a malformed passport is refused, not ignored
    schemas.check_error(client.post(f"{API}/objects/{spec.id}"), 400)
    schemas.check_error(client.post(f"{API}/objects/{spec.id}", json={"passports": ["a.b.c"]}), 401)


def test_bundle(client: TestClient, published: Any, schemas: Any) -> None:
    response = client.get(f"{API}/objects/{published.bundle.id}")
    assert response.status_code == 200, response.text
    body = response.json()
    schemas.check_drs_object(body)
    assert "access_methods" not in body
    assert "mime_type" not in body
    assert body["size"] == sum(spec.size for spec in published.specs)
    digests = sorted(
        hashlib.sha256(published.contents[s.name]).hexdigest() for s in published.specs
    )
    assert body["checksums"] == [
        {"checksum": hashlib.sha256("".join(digests).encode()).hexdigest(), "type": "sha-256"}
    ]
    assert body["contents"] == sorted(
        (
            {"name": spec.name, "id": spec.id, "drs_uri": [f"drs://drs.example.org/{spec.id}"]}
            for spec in published.specs
        ),
        key=lambda entry: entry["name"],
    )


def test_bundle_expand_nests_bundles(client: TestClient, published: Any, schemas: Any) -> None:
    outer = BundleSpec(
        id=bundle_id("collection", hashlib.sha256(b"collection").hexdigest()),
        name="collection",
        submission_id="collection",
        dataset="demo",
        access="public",
        member_ids=[published.bundle.id, published.specs[0].id],
    )
    published.registry.register([], outer)
    flat = client.get(f"{API}/objects/{outer.id}").json()
    schemas.check_drs_object(flat)
    assert all("contents" not in entry for entry in flat["contents"])

    for response in (
        client.get(f"{API}/objects/{outer.id}", params={"expand": "true"}),
        client.post(f"{API}/objects/{outer.id}", json={"expand": True}),
    ):
        assert response.status_code == 200, response.text
        expanded = response.json()
        schemas.check_drs_object(expanded)
        nested = {entry["name"]: entry for entry in expanded["contents"]}
        assert "contents" not in nested[published.specs[0].name]
        inner = nested["s1"]
        assert inner["id"] == published.bundle.id
        assert {entry["id"] for entry in inner["contents"]} == {s.id for s in published.specs}
    # a bundle's checksum is over its top-level members (the inner bundle's own checksum)
    inner_row = published.registry.get(published.bundle.id)
    joined = "".join(sorted([inner_row.sha256, published.specs[0].sha256]))
    assert flat["checksums"][0]["checksum"] == hashlib.sha256(joined.encode()).hexdigest()
    assert flat["size"] == inner_row.size + published.specs[0].size


def test_bulk_objects(client: TestClient, published: Any, schemas: Any) -> None:
    wanted = [spec.id for spec in published.specs[:2]]
    response = client.post(
        f"{API}/objects", json={"bulk_object_ids": [*wanted, "hzunknown", "bad id/"]}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    schemas.check_openapi(
        body, "components/responses/200OkDrsObjects/content/application~1json/schema"
    )
    assert body["summary"] == {"requested": 4, "resolved": 2, "unresolved": 2}
    assert [item["id"] for item in body["resolved_drs_object"]] == wanted
    for item in body["resolved_drs_object"]:
        schemas.check_drs_object(item)
    assert body["unresolved_drs_objects"] == [
        {"error_code": 400, "object_ids": ["bad id/"]},
        {"error_code": 401, "object_ids": ["hzunknown"]},
    ]


def test_bulk_expand_and_controlled(client: TestClient, published: Any, token: str) -> None:
    ids = [published.bundle.id, published.controlled.id]
    body = client.post(f"{API}/objects?expand=true", json={"bulk_object_ids": ids}).json()
    assert body["summary"] == {"requested": 2, "resolved": 1, "unresolved": 1}
    assert body["unresolved_drs_objects"] == [
        {"error_code": 401, "object_ids": [published.controlled.id]}
    ]
    authorised = client.post(
        f"{API}/objects",
        json={"bulk_object_ids": ids},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    assert authorised["summary"]["resolved"] == 2


def test_bulk_limit(make_client: Callable[..., TestClient], published: Any, schemas: Any) -> None:
    client = make_client(max_bulk_request_length=2)
    ids = [spec.id for spec in published.specs]
    body = schemas.check_error(client.post(f"{API}/objects", json={"bulk_object_ids": ids}), 413)
    assert "at most 2" in body["msg"]
    assert client.post(f"{API}/objects", json={"bulk_object_ids": ids[:2]}).status_code == 200
    assert client.get(f"{API}/service-info").json()["drs"]["maxBulkRequestLength"] == 2


def test_bulk_body_must_be_valid(client: TestClient, schemas: Any) -> None:
    schemas.check_error(client.post(f"{API}/objects", json={"ids": []}), 400)
    schemas.check_error(client.post(f"{API}/objects", content=b"{not json"), 400)


def test_deleted_object_is_gone(client: TestClient, published: Any, schemas: Any) -> None:
    spec = published.objects["P1.json"]
    published.registry.mark_deleted([spec.id])
    body = schemas.check_error(client.get(f"{API}/objects/{spec.id}"), 404)
    assert "deleted" in body["msg"]
    schemas.check_error(client.get(f"{API}/objects/{spec.id}/download"), 404)


def test_unknown_object(client: TestClient, schemas: Any, token: str) -> None:
    # an unknown id answers as a controlled object would: 401, then 403 with a token
    body = schemas.check_error(client.get(f"{API}/objects/hzdoesnotexist"), 401)
    assert "hzdoesnotexist" in body["msg"]
    schemas.check_error(
        client.get(f"{API}/objects/hzdoesnotexist", headers={"Authorization": f"Bearer {token}"}),
        403,
    )
    schemas.check_error(client.get(f"{API}/nothing-here"), 404)
    schemas.check_error(client.delete(f"{API}/objects/hzdoesnotexist"), 405)


def test_bad_query_parameter_is_400(client: TestClient, published: Any, schemas: Any) -> None:
    spec = published.specs[0]
    schemas.check_error(client.get(f"{API}/objects/{spec.id}?expand=maybe"), 400)


def test_openapi_document_builds(client: TestClient) -> None:
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    assert f"{API}/objects/{{object_id}}" in response.json()["paths"]


def test_app_from_env(monkeypatch: pytest.MonkeyPatch, published: Any, schemas: Any) -> None:
    monkeypatch.setenv("HARMONIZE_DRS_WORKSPACE", str(published.workspace))
    monkeypatch.setenv("HARMONIZE_DRS_REGISTRY_URL", published.registry.url)
    monkeypatch.setenv("HARMONIZE_DRS_MAX_BULK_REQUEST_LENGTH", "7")
    with TestClient(app_from_env()) as client:
        info = client.get(f"{API}/service-info").json()
        assert info["drs"]["maxBulkRequestLength"] == 7
        assert info["drs"]["objectCount"] == 6
        # no issuer configured: controlled objects stay closed
        response = client.get(
            f"{API}/objects/{published.controlled.id}", headers={"Authorization": "Bearer x"}
        )
        schemas.check_error(response, 401)


def test_serve_environment(monkeypatch: pytest.MonkeyPatch, published: Any, tmp_path: Path) -> None:
    from harmonize.drs.serve import app_factory_env
    from harmonize.drs.serve import app_from_env as serve_factory

    env = app_factory_env(
        workspace=published.workspace,
        host="127.0.0.1",
        port=8080,
        registry_url=published.registry.url,
    )
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    spec = published.specs[0]
    with TestClient(serve_factory()) as client:
        access = client.get(f"{API}/objects/{spec.id}/access/https").json()
    assert access["url"] == f"http://127.0.0.1:8080{API}/objects/{spec.id}/download"
