"""The registration API: register, update metadata, tombstone; behind the admin token."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from harmonize.drs.ids import drs_id
from harmonize.drs.links import API_PREFIX as API
from harmonize.drs.registration import bundle_checksum
from harmonize.drs.routes.admin import PREFIX as ADMIN

ADMIN_TOKEN = "admin-" + "x" * 26


@pytest.fixture
def admin(make_client: Callable[..., TestClient], kit: Any) -> TestClient:
    return make_client(auth=kit.auth_settings(admin_token=ADMIN_TOKEN))


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _new_file(published: Any, write_file: Any, name: str, data: bytes) -> dict[str, Any]:
    path = f"published/dataset=demo/submission=s9/{name}"
    write_file(published.workspace, path, data)
    return {
        "name": name,
        "path": path,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "mime_type": "application/json",
        "submission_id": "s9",
        "dataset": "demo",
        "access": "public",
        "role": "published",
    }


def test_admin_token_required(
    admin: TestClient, client: TestClient, published: Any, schemas: Any
) -> None:
    url = f"{ADMIN}/objects/{published.specs[0].id}"
    schemas.check_error(admin.delete(url), 401)
    schemas.check_error(admin.delete(url, headers={"Authorization": "Bearer wrong"}), 401)
    schemas.check_error(client.delete(url, headers=_auth()), 403)  # no admin token configured
    assert published.registry.get(published.specs[0].id).deleted is False


def test_register_bundle_then_serve(
    admin: TestClient, published: Any, write_file: Any, schemas: Any
) -> None:
    files = [
        _new_file(published, write_file, "P7.json", b'{"id": "P7"}\n'),
        _new_file(published, write_file, "P8.json", b'{"id": "P8"}\n'),
    ]
    body = {
        "objects": files,
        "bundle": {"name": "s9", "submission_id": "s9", "dataset": "demo", "access": "public"},
    }
    response = admin.post(f"{ADMIN}/objects", json=body, headers=_auth())
    assert response.status_code == 201, response.text
    result = response.json()
    # the pipeline's deterministic ids
    assert result["object_ids"] == [drs_id("s9", f["path"], f["sha256"]) for f in files]
    bundle = admin.get(f"{API}/objects/{result['bundle_id']}").json()
    schemas.check_drs_object(bundle)
    assert sorted(c["id"] for c in bundle["contents"]) == sorted(result["object_ids"])
    assert bundle["checksums"][0]["checksum"] == bundle_checksum(f["sha256"] for f in files)
    for object_id, f in zip(result["object_ids"], files, strict=True):
        url = admin.get(f"{API}/objects/{object_id}/access/https").json()["url"]
        assert hashlib.sha256(admin.get(url).content).hexdigest() == f["sha256"]
    # a replay is a no-op with the same answer
    again = admin.post(f"{ADMIN}/objects", json=body, headers=_auth())
    assert again.status_code == 201 and again.json() == result


def test_register_checks_the_bytes(
    admin: TestClient, published: Any, write_file: Any, schemas: Any
) -> None:
    f = _new_file(published, write_file, "P7.json", b'{"id": "P7"}\n')
    wrong_sha = {**f, "sha256": "0" * 64}
    body = schemas.check_error(
        admin.post(f"{ADMIN}/objects", json={"objects": [wrong_sha]}, headers=_auth()), 400
    )
    assert "sha-256" in body["msg"]
    wrong_size = {**f, "size": f["size"] + 1}
    schemas.check_error(
        admin.post(f"{ADMIN}/objects", json={"objects": [wrong_size]}, headers=_auth()), 400
    )
    for path in ("../registry.sqlite", "/etc/passwd", "published/../../x", "nothing/here.json"):
        response = admin.post(
            f"{ADMIN}/objects", json={"objects": [{**f, "path": path}]}, headers=_auth()
        )
        schemas.check_error(response, 400)
    assert published.registry.count() == 6


def test_update_metadata(admin: TestClient, published: Any, schemas: Any) -> None:
    spec = published.specs[1]
    patch = {"description": "reviewed", "aliases": ["doi:10.1/x"], "name": "P1-renamed.json"}
    response = admin.patch(f"{ADMIN}/objects/{spec.id}", json=patch, headers=_auth())
    assert response.status_code == 200, response.text
    schemas.check_drs_object(response.json())
    served = admin.get(f"{API}/objects/{spec.id}").json()
    assert (served["description"], served["aliases"], served["name"]) == (
        "reviewed",
        ["doi:10.1/x"],
        "P1-renamed.json",
    )
    assert served["checksums"][0]["checksum"] == spec.sha256
    assert served["updated_time"] > served["created_time"]
    schemas.check_error(
        admin.patch(f"{ADMIN}/objects/{spec.id}", json={"sha256": "0" * 64}, headers=_auth()),
        400,
    )
    schemas.check_error(
        admin.patch(f"{ADMIN}/objects/{spec.id}", json={"name": None}, headers=_auth()), 400
    )
    schemas.check_error(admin.patch(f"{ADMIN}/objects/hzunknown", json=patch, headers=_auth()), 404)


def test_tombstone_keeps_the_id_and_never_reuses_it(
    admin: TestClient, published: Any, schemas: Any
) -> None:
    spec = published.objects["P1.json"]
    response = admin.delete(f"{ADMIN}/objects/{spec.id}", headers=_auth())
    assert response.status_code == 200 and response.json() == {"id": spec.id, "deleted": True}
    gone = schemas.check_error(admin.get(f"{API}/objects/{spec.id}"), 404)
    assert "deleted" in gone["msg"]
    assert admin.get(f"{API}/service-info").json()["drs"]["objectCount"] == 5
    # idempotent, and the id cannot be registered again
    assert admin.delete(f"{ADMIN}/objects/{spec.id}", headers=_auth()).status_code == 200
    again = {
        "id": spec.id,
        "name": spec.name,
        "path": spec.path,
        "size": spec.size,
        "sha256": spec.sha256,
        "mime_type": spec.mime_type,
        "submission_id": spec.submission_id,
        "dataset": spec.dataset,
        "access": spec.access,
        "role": spec.role,
    }
    body = schemas.check_error(
        admin.post(f"{ADMIN}/objects", json={"objects": [again]}, headers=_auth()), 409
    )
    assert "never reused" in body["msg"]
    assert published.registry.get(spec.id).deleted is True
    schemas.check_error(admin.delete(f"{ADMIN}/objects/hzunknown", headers=_auth()), 404)
    schemas.check_error(
        admin.patch(f"{ADMIN}/objects/{spec.id}", json={"name": "x"}, headers=_auth()), 404
    )


def test_live_id_with_another_file_is_a_conflict(
    admin: TestClient, published: Any, write_file: Any, schemas: Any
) -> None:
    spec = published.objects["cases.csv"]
    f = _new_file(published, write_file, "other.csv", b"id\nx\n")
    response = admin.post(
        f"{ADMIN}/objects", json={"objects": [{**f, "id": spec.id}]}, headers=_auth()
    )
    schemas.check_error(response, 409)
    assert published.registry.get(spec.id).sha256 == spec.sha256


def test_register_with_consent_and_read_it_back(
    admin: TestClient, published: Any, write_file: Any, schemas: Any
) -> None:
    """Consent is accepted on registration and shown by the admin read, never in DrsObject."""
    f = {**_new_file(published, write_file, "P7.json", b'{"id": "P7"}\n')}
    f["consent"] = ["DUO:0000006", "DUO:0000021"]
    body = {
        "objects": [f],
        "bundle": {
            "name": "s9",
            "submission_id": "s9",
            "dataset": "demo",
            "access": "public",
            "consent": ["DUO:0000006"],
        },
    }
    response = admin.post(f"{ADMIN}/objects", json=body, headers=_auth())
    assert response.status_code == 201, response.text
    result = response.json()
    record = admin.get(f"{ADMIN}/objects/{result['object_ids'][0]}", headers=_auth())
    assert record.status_code == 200, record.text
    assert record.json()["consent"] == ["DUO:0000006", "DUO:0000021"]
    assert record.json()["access"] == "public" and record.json()["deleted"] is False
    bundle = admin.get(f"{ADMIN}/objects/{result['bundle_id']}", headers=_auth()).json()
    assert bundle["consent"] == ["DUO:0000006"] and bundle["is_bundle"] is True
    drs = admin.get(f"{API}/objects/{result['object_ids'][0]}").json()
    schemas.check_drs_object(drs)  # the DRS 1.5 object is unchanged: no consent field
    assert "consent" not in drs
    # what the pipeline registered reads back too (no consent recorded: null)
    old = admin.get(f"{ADMIN}/objects/{published.specs[0].id}", headers=_auth()).json()
    assert old["consent"] is None
    schemas.check_error(admin.get(f"{ADMIN}/objects/nope", headers=_auth()), 404)
    schemas.check_error(admin.get(f"{ADMIN}/objects/{result['bundle_id']}"), 401)


def test_register_refuses_an_unknown_consent_code(
    admin: TestClient, published: Any, write_file: Any
) -> None:
    f = {**_new_file(published, write_file, "P7.json", b'{"id": "P7"}\n')}
    before = published.registry.count()
    for codes in (["DUO:9999999"], ["GRU"]):
        response = admin.post(
            f"{ADMIN}/objects", json={"objects": [{**f, "consent": codes}]}, headers=_auth()
        )
        assert response.status_code == 400, response.text  # DRS errors have no 422
        assert codes[0] in response.text
    assert published.registry.count() == before
