"""Access URLs, downloads, controlled objects and hostile ids."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from harmonize.drs.links import API_PREFIX as API
from harmonize.errors import RegistryError

OPENAPI_ACCESSES = "components/responses/200OkAccesses/content/application~1json/schema"


def test_access_url_then_download(client: TestClient, published: Any, schemas: Any) -> None:
    for spec in published.specs:
        response = client.get(f"{API}/objects/{spec.id}/access/https")
        assert response.status_code == 200, response.text
        access = response.json()
        schemas.check_compliance(access, "access_url.json")
        schemas.check_openapi(access, "components/schemas/AccessURL")
        assert access == {"url": f"http://testserver{API}/objects/{spec.id}/download"}
        download = client.get(access["url"])
        assert download.status_code == 200
        assert hashlib.sha256(download.content).hexdigest() == spec.sha256
        assert download.content == published.contents[spec.name]
        assert int(download.headers["content-length"]) == spec.size
        assert download.headers["content-type"].startswith(spec.mime_type)
        assert download.headers["etag"] == f'"{spec.sha256}"'
        assert spec.name in download.headers["content-disposition"]


def test_public_url_setting_is_used(make_client: Callable[..., TestClient], published: Any) -> None:
    client = make_client(public_url="https://drs.example.org/")
    spec = published.specs[0]
    access = client.get(f"{API}/objects/{spec.id}/access/https").json()
    assert access["url"] == f"https://drs.example.org{API}/objects/{spec.id}/download"
    posted = client.post(f"{API}/objects/{spec.id}/access/https", json={"passports": []})
    assert posted.json() == access


def test_download_ranges_and_head(client: TestClient, published: Any) -> None:
    spec = published.objects["cases.parquet"]
    data = published.contents["cases.parquet"]
    url = f"{API}/objects/{spec.id}/download"
    partial = client.get(url, headers={"Range": "bytes=4-19"})
    assert partial.status_code == 206
    assert partial.content == data[4:20]
    assert partial.headers["content-range"] == f"bytes 4-19/{len(data)}"
    head = client.head(url)
    assert head.status_code == 200
    assert head.content == b""
    assert int(head.headers["content-length"]) == len(data)


def test_access_errors(client: TestClient, published: Any, schemas: Any) -> None:
    spec = published.specs[0]
    schemas.check_error(client.get(f"{API}/objects/{spec.id}/access/s3"), 404)
    schemas.check_error(client.get(f"{API}/objects/{published.bundle.id}/access/https"), 404)
    schemas.check_error(client.get(f"{API}/objects/{published.bundle.id}/download"), 404)
    # an unknown id answers as a controlled one would: existence is not revealed
    schemas.check_error(client.get(f"{API}/objects/hzmissing/access/https"), 401)


def test_bulk_access(client: TestClient, published: Any, schemas: Any) -> None:
    first, second = published.specs[:2]
    body = {
        "bulk_object_access_ids": [
            {"bulk_object_id": first.id, "bulk_access_ids": ["https"]},
            {"bulk_object_id": second.id, "bulk_access_ids": ["https"]},
            {"bulk_object_id": "hzmissing", "bulk_access_ids": ["https"]},
            {"bulk_object_id": published.controlled.id, "bulk_access_ids": ["https"]},
            {"bulk_object_id": published.specs[2].id, "bulk_access_ids": ["https", "gs"]},
        ],
        "passports": [],
    }
    # an untrusted passport spoils the whole request (never silently ignored)
    garbage = client.post(f"{API}/objects/access", json={**body, "passports": ["x.y.z"]})
    schemas.check_error(garbage, 401)
    response = client.post(f"{API}/objects/access", json=body)
    assert response.status_code == 200, response.text
    result = response.json()
    schemas.check_openapi(result, OPENAPI_ACCESSES)
    assert result["summary"] == {"requested": 5, "resolved": 2, "unresolved": 3}
    urls = result["resolved_drs_object_access_urls"]
    assert [(u["drs_object_id"], u["drs_access_id"]) for u in urls] == [
        (first.id, "https"),
        (second.id, "https"),
    ]
    assert all(u["url"].endswith(f"/objects/{u['drs_object_id']}/download") for u in urls)
    assert result["unresolved_drs_objects"] == [
        {"error_code": 401, "object_ids": ["hzmissing", published.controlled.id]},
        {"error_code": 404, "object_ids": [published.specs[2].id]},
    ]


def test_bulk_access_limit(make_client: Callable[..., TestClient], schemas: Any) -> None:
    client = make_client(max_bulk_request_length=1)
    entries = [{"bulk_object_id": f"hz{i}", "bulk_access_ids": ["https"]} for i in range(2)]
    response = client.post(f"{API}/objects/access", json={"bulk_object_access_ids": entries})
    schemas.check_error(response, 413)


def test_controlled_object(
    client: TestClient, published: Any, schemas: Any, token: str, kit: Any
) -> None:
    spec = published.controlled
    url = f"{API}/objects/{spec.id}"
    other = {"Authorization": f"Bearer {kit.token_for('other')}"}
    missing = schemas.check_error(client.get(url), 401)
    assert "bearer" in missing["msg"].lower()
    assert client.get(url).headers["www-authenticate"].startswith("Bearer")
    schemas.check_error(client.get(url, headers={"Authorization": "Bearer wrong"}), 401)
    schemas.check_error(client.get(url, headers=other), 403)
    schemas.check_error(client.get(url, headers={"Authorization": f"Basic {token}"}), 401)
    schemas.check_error(client.get(f"{API}/objects/{published.controlled_bundle.id}"), 401)
    for path in ("/access/https", "/download"):
        schemas.check_error(client.get(url + path), 401)
        schemas.check_error(client.get(url + path, headers={"Authorization": "Bearer no"}), 401)
        schemas.check_error(client.get(url + path, headers=other), 403)

    auth = {"Authorization": f"Bearer {token}"}
    body = client.get(url, headers=auth).json()
    schemas.check_drs_object(body)
    assert body["id"] == spec.id
    bundle = client.get(f"{API}/objects/{published.controlled_bundle.id}", headers=auth).json()
    assert [entry["id"] for entry in bundle["contents"]] == [spec.id]
    access = client.get(f"{url}/access/https", headers=auth).json()
    assert "headers" not in access  # a signed URL: the bearer token is never forwarded
    assert "signature=" in access["url"] and "expires=" in access["url"]
    download = client.get(access["url"])
    assert download.status_code == 200
    assert hashlib.sha256(download.content).hexdigest() == spec.sha256


def test_deleted_controlled_object_needs_a_token_first(
    client: TestClient, published: Any, schemas: Any, token: str
) -> None:
    published.registry.mark_deleted([published.controlled.id])
    url = f"{API}/objects/{published.controlled.id}"
    schemas.check_error(client.get(url), 401)
    body = schemas.check_error(client.get(url, headers={"Authorization": f"Bearer {token}"}), 404)
    assert "deleted" in body["msg"]


HOSTILE_IDS = [
    "..%2F..%2Fetc%2Fpasswd",
    "..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "..%5C..%5Cetc%5Cpasswd",
    "%2Fetc%2Fpasswd",
    "..",
    "...",
    "foo%00bar",
    "a%20b",
    "%252e%252e%252fetc%252fpasswd",
]


@pytest.mark.parametrize("hostile", HOSTILE_IDS)
@pytest.mark.parametrize("suffix", ["", "/download", "/access/https"])
def test_hostile_ids_never_reach_files(
    client: TestClient, schemas: Any, hostile: str, suffix: str
) -> None:
    for method in ("GET", "POST") if suffix != "/download" else ("GET",):
        response = client.request(method, f"{API}/objects/{hostile}{suffix}")
        assert response.status_code in (400, 401, 404, 405), (hostile, suffix, response.status_code)
        schemas.check_error(response, response.status_code)
        assert b"root:" not in response.content


def test_rows_pointing_outside_the_workspace_are_not_served(
    client: TestClient, published: Any, schemas: Any, tmp_path: Any
) -> None:
    secret = tmp_path / "outside.txt"
    secret.write_bytes(b"top secret")
    spec = published.objects["P1.json"]
    with published.registry.engine.begin() as conn:
        conn.execute(
            text("UPDATE drs_objects SET path = :path, size = 10 WHERE id = :id"),
            {"path": "../outside.txt", "id": spec.id},
        )
    response = client.get(f"{API}/objects/{spec.id}/download")
    schemas.check_error(response, 404)
    assert b"top secret" not in response.content
    body = client.get(f"{API}/objects/{spec.id}").json()
    assert [method["type"] for method in body["access_methods"]] == ["https"]


def test_symlinks_out_of_the_workspace_are_not_followed(
    client: TestClient,
    published: Any,
    schemas: Any,
    tmp_path: Any,
    make_spec: Callable[..., Any],
) -> None:
    secret = tmp_path / "outside.txt"
    secret.write_bytes(b"top secret")
    link = published.workspace / "published" / "link.txt"
    link.symlink_to(secret)
    spec = make_spec("link.txt", "published/link.txt", "text/plain", "report", b"top secret")
    published.registry.register([spec])
    response = client.get(f"{API}/objects/{spec.id}/download")
    schemas.check_error(response, 404)
    assert b"top secret" not in response.content


def test_changed_file_is_a_server_error(client: TestClient, published: Any, schemas: Any) -> None:
    spec = published.objects["cases.csv"]
    (published.workspace / spec.path).write_bytes(b"truncated")
    body = schemas.check_error(client.get(f"{API}/objects/{spec.id}/download"), 500)
    assert "changed" in body["msg"]


def test_missing_file_is_404(client: TestClient, published: Any, schemas: Any) -> None:
    spec = published.objects["cases.csv"]
    (published.workspace / spec.path).unlink()
    schemas.check_error(client.get(f"{API}/objects/{spec.id}/download"), 404)


def test_registry_outage_is_500(
    client: TestClient, published: Any, schemas: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RegistryError("database is locked")

    from harmonize.drs import fastlookup

    monkeypatch.setattr(published.registry.__class__, "get", broken)
    # the fast path's own PostgreSQL read fails too: it leaves the request to the routes
    monkeypatch.setattr(fastlookup._PostgresRows, "fetch", broken)
    body = schemas.check_error(client.get(f"{API}/objects/{published.specs[0].id}"), 500)
    assert "registry" in body["msg"]
    assert client.app.state.fast_lookups.stats.failures == 1  # type: ignore[attr-defined]
