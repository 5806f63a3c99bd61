"""Access methods: signed https URLs with expiry and Range, file://, compact drs:// URIs,
and s3 presigned URLs against moto's server mode (the one mock: a cloud object store)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import httpx
import pytest
from fastapi.testclient import TestClient
from moto.server import ThreadedMotoServer

from harmonize.drs.links import API_PREFIX as API
from harmonize.drs.signing import UrlSigner
from harmonize.drs.stores import S3Settings
from harmonize.drs.uris import parse_drs_uri

KEY = "k" * 32


def test_signed_url_for_controlled_bytes_with_ranges(
    make_client: Callable[..., TestClient], published: Any, kit: Any, token: str
) -> None:
    client = make_client(auth=kit.auth_settings(url_signing_key=KEY, signed_url_ttl_seconds=60))
    spec = published.controlled
    data = published.contents["P9.json"]
    access = client.get(
        f"{API}/objects/{spec.id}/access/https", headers={"Authorization": f"Bearer {token}"}
    ).json()
    url = access["url"]
    assert url.startswith(f"http://testserver{API}/objects/{spec.id}/download?expires=")
    full = client.get(url)  # no credentials: the signature is the credential
    assert full.status_code == 200
    assert hashlib.sha256(full.content).hexdigest() == spec.sha256
    partial = client.get(url, headers={"Range": "bytes=5-11"})
    assert partial.status_code == 206
    assert partial.content == data[5:12]
    assert partial.headers["content-range"] == f"bytes 5-11/{len(data)}"
    suffix = client.get(url, headers={"Range": "bytes=-4"})
    assert suffix.status_code == 206 and suffix.content == data[-4:]
    unsatisfiable = client.get(url, headers={"Range": f"bytes={len(data) + 10}-"})
    assert unsatisfiable.status_code == 416


def test_expired_signed_url_is_403(
    make_client: Callable[..., TestClient], published: Any, kit: Any, schemas: Any
) -> None:
    client = make_client(auth=kit.auth_settings(url_signing_key=KEY))
    spec = published.controlled
    expires, signature = UrlSigner(KEY.encode(), ttl=60).sign(spec.id, now=1_000_000)
    response = client.get(
        f"{API}/objects/{spec.id}/download?expires={expires}&signature={signature}"
    )
    body = schemas.check_error(response, 403)
    assert "expired" in body["msg"]
    fresh_expires, fresh = UrlSigner(KEY.encode(), ttl=60).sign(spec.id)
    ok = client.get(f"{API}/objects/{spec.id}/download?expires={fresh_expires}&signature={fresh}")
    assert ok.status_code == 200 and ok.content == published.contents["P9.json"]


def test_signed_url_of_a_deleted_object_is_404(
    client: TestClient, published: Any, token: str, schemas: Any
) -> None:
    spec = published.controlled
    url = client.get(
        f"{API}/objects/{spec.id}/access/https", headers={"Authorization": f"Bearer {token}"}
    ).json()["url"]
    published.registry.mark_deleted([spec.id])
    schemas.check_error(client.get(url), 404)


def test_file_and_https_methods(client: TestClient, published: Any) -> None:
    spec = published.objects["cases.csv"]
    methods = client.get(f"{API}/objects/{spec.id}").json()["access_methods"]
    assert [m["type"] for m in methods] == ["https", "file"]
    file_url = methods[1]["access_url"]["url"]
    path = published.workspace.resolve() / spec.path
    assert file_url == path.as_uri()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == spec.sha256


def test_compact_uris_resolve(
    make_client: Callable[..., TestClient], published: Any, schemas: Any
) -> None:
    client = make_client(compact_prefix="hz.drs")
    bundle = client.get(f"{API}/objects/{published.bundle.id}").json()
    schemas.check_drs_object(bundle)
    for entry in bundle["contents"]:
        hostname_uri, compact = entry["drs_uri"]
        assert compact == f"drs://hz.drs:{entry['id']}"
        parsed = parse_drs_uri(compact)
        assert (parsed.prefix, parsed.accession) == ("hz.drs", entry["id"])
        # a resolver forwards the compact id, or just the accession: both name the object
        for path_id in (f"{parsed.prefix}:{parsed.accession}", parsed.accession):
            body = client.get(f"{API}/objects/{path_id}").json()
            assert body["id"] == entry["id"]
            assert body["self_uri"] == hostname_uri
        assert parse_drs_uri(hostname_uri).host == "drs.example.org"
    # another prefix is just an unknown id
    schemas.check_error(client.get(f"{API}/objects/other.drs:{published.specs[0].id}"), 401)


# -- s3 ------------------------------------------------------------------------------------


@pytest.fixture
def moto_s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto S3 server on a free port; boto3 reads the fake credentials from the env."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.mark.integration
def test_s3_presigned_urls(
    make_client: Callable[..., TestClient],
    published: Any,
    moto_s3: str,
    token: str,
    schemas: Any,
) -> None:
    s3 = S3Settings(bucket="harmonize-published", prefix="ws", endpoint_url=moto_s3)
    client_s3 = boto3.client("s3", endpoint_url=moto_s3, region_name="us-east-1")
    client_s3.create_bucket(Bucket=s3.bucket)
    for spec in published.objects.values():
        body = published.contents[spec.name]
        client_s3.put_object(Bucket=s3.bucket, Key=s3.key(spec.path), Body=body)
    client = make_client(s3=s3)
    for spec in [*published.specs, published.controlled]:
        headers = {"Authorization": f"Bearer {token}"}
        described = client.get(f"{API}/objects/{spec.id}", headers=headers).json()
        schemas.check_drs_object(described)
        assert described["access_methods"] == [{"type": "s3", "access_id": "s3"}]
        access = client.get(f"{API}/objects/{spec.id}/access/s3", headers=headers)
        assert access.status_code == 200, access.text
        url = access.json()["url"]
        assert url.startswith(moto_s3) and ("Signature=" in url or "X-Amz-Signature=" in url)
        fetched = httpx.get(url, timeout=10)
        assert fetched.status_code == 200
        assert hashlib.sha256(fetched.content).hexdigest() == spec.sha256
        schemas.check_error(
            client.get(f"{API}/objects/{spec.id}/access/https", headers=headers), 404
        )
    # controlled objects still need credentials before any URL is handed out
    schemas.check_error(client.get(f"{API}/objects/{published.controlled.id}/access/s3"), 401)


@pytest.mark.integration
def test_admin_registration_checks_the_bucket(
    make_client: Callable[..., TestClient], published: Any, moto_s3: str, kit: Any, schemas: Any
) -> None:
    s3 = S3Settings(bucket="harmonize-admin", endpoint_url=moto_s3)
    bucket = boto3.client("s3", endpoint_url=moto_s3, region_name="us-east-1")
    bucket.create_bucket(Bucket=s3.bucket)
    data = b'{"id": "P5"}\n'
    bucket.put_object(Bucket=s3.bucket, Key="published/P5.json", Body=data)
    client = make_client(s3=s3, auth=kit.auth_settings(admin_token="t" * 32))
    item = {
        "name": "P5.json",
        "path": "published/P5.json",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "submission_id": "s5",
        "dataset": "demo",
        "access": "public",
    }
    headers = {"Authorization": f"Bearer {'t' * 32}"}
    wrong = client.post(
        "/admin/drs/v1/objects", json={"objects": [{**item, "size": 1}]}, headers=headers
    )
    schemas.check_error(wrong, 400)
    response = client.post("/admin/drs/v1/objects", json={"objects": [item]}, headers=headers)
    assert response.status_code == 201, response.text
    (object_id,) = response.json()["object_ids"]
    url = client.get(f"{API}/objects/{object_id}/access/s3").json()["url"]
    assert hashlib.sha256(httpx.get(url, timeout=10).content).hexdigest() == item["sha256"]
