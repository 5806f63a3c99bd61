"""``POST /admin/drs/v1/withdrawals``: the CLI's withdrawal over the admin API, on real data."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from harmonize.drs.app import create_app
from harmonize.drs.authconfig import AuthSettings
from harmonize.drs.config import DrsSettings
from harmonize.drs.registry import Registry
from harmonize.pipeline import ingest
from harmonize.settings import Settings
from harmonize.warehouse import Warehouse, current
from harmonize.warehouse.ledger import WithdrawalRow
from harmonize.web import app_from_env

pytestmark = pytest.mark.integration

URL = "/admin/drs/v1/withdrawals"
TOKEN = "admin-token-" + "w" * 24
DATASET = "phenopacket-store"
SUBJECT = "Proband 1 from PMID 9050047"  # a real individual of the SUOX cohort


@pytest.fixture
def settings(tmp_path: Path, submissions: Path, ontology_cache: Path) -> Settings:
    """The SUOX cohort published (a public copy, so DRS answers without credentials)."""
    source = tmp_path / "suox-isod"
    shutil.copytree(submissions / "suox-isod", source)
    manifest = source / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("access: controlled", "access: public"))
    settings = Settings(
        workspace=tmp_path / "ws",
        ontology_cache=ontology_cache,
        run_great_expectations=False,
        data_docs=False,
    )
    assert ingest(source, settings).status == "published"
    return settings


def client(settings: Settings, *, admin_token: str | None = TOKEN) -> TestClient:
    drs = DrsSettings(
        workspace=settings.workspace,
        registry_url=settings.registry,
        auth=AuthSettings.model_validate({"admin_token": admin_token} if admin_token else {}),
    )
    return TestClient(create_app(drs, pipeline=settings))


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def subjects(settings: Settings) -> list[str]:
    registry = Registry(settings.registry)
    table = Warehouse.of(settings).read("individuals", current(registry), columns=["subject_id"])
    return table.column("subject_id").to_pylist()


def withdrawals(settings: Settings) -> int:
    with Registry(settings.registry).session() as session:
        return int(session.scalar(select(func.count()).select_from(WithdrawalRow)) or 0)


def test_refusals_change_nothing(settings: Settings) -> None:
    body = {"dataset": DATASET, "subject": SUBJECT, "by": "dr.curator"}
    before, seq = subjects(settings), current(Registry(settings.registry)).seq
    with client(settings) as api:
        for headers in ({}, auth("not-the-admin-token")):
            refused = api.post(URL, json=body, headers=headers)
            assert refused.status_code == 401, refused.text
            assert refused.headers["WWW-Authenticate"] == "Bearer"
        unknown = api.post(URL, json={**body, "subject": "nobody"}, headers=auth())
        assert unknown.status_code == 404
        assert unknown.json()["status_code"] == 404
        assert "no individual with subject id 'nobody'" in unknown.json()["msg"]
        assert "nothing was changed" in unknown.json()["msg"]
        wrong_dataset = api.post(URL, json={**body, "dataset": "clinic-a"}, headers=auth())
        assert wrong_dataset.status_code == 404
        for bad in ({**body, "by": "   "}, {**body, "erase": "later"}, {**body, "extra": 1}):
            answer = api.post(URL, json=bad, headers=auth())
            assert answer.status_code == 400, (bad, answer.text)
    with client(settings, admin_token=None) as disabled:
        assert disabled.post(URL, json=body, headers=auth()).status_code == 403
    assert subjects(settings) == before and SUBJECT in before
    assert current(Registry(settings.registry)).seq == seq  # no publication was made
    assert withdrawals(settings) == 0


def test_withdrawal_then_repeat_then_erase(settings: Settings) -> None:
    registry = Registry(settings.registry)
    bundle = next(r for r in registry.objects_for_submission("suox-isod") if r.is_bundle)
    body = {"dataset": DATASET, "subject": SUBJECT, "by": "dr.curator", "reason": "consent"}
    with client(settings) as api:
        done = api.post(URL, json=body, headers=auth())
        assert done.status_code == 201, done.text
        answer = done.json()
        assert answer["status"] == "withdrawn" and answer["id"] == 1
        assert answer["dataset"] == DATASET and answer["submissions"] == ["suox-isod"]
        assert answer["rows"]["individuals"] == 1 and answer["rows"]["phenotypic_features"] > 0
        assert answer["objects"] > 0 and answer["bundles"] == [bundle.id]
        assert answer["publication"] > 0 and answer["erased"] is None
        assert SUBJECT not in done.text  # ids and counts, never the subject
        # the bundle answers with a new checksum
        served = api.get(f"/ga4gh/drs/v1/objects/{bundle.id}").json()
        assert served["checksums"][0]["checksum"] != bundle.sha256

        # the same request again: nothing left to remove, the earlier withdrawal's id
        again = api.post(URL, json={**body, "erase": True}, headers=auth())
        assert again.status_code == 200, again.text
        repeat = again.json()
        assert repeat["status"] == "already-withdrawn" and repeat["id"] == answer["id"]
        assert repeat["publication"] is None and repeat["rows"] == {}
        assert repeat["erased"]["publication"] > answer["publication"]
        assert repeat["erased"]["files"] > 0

    left = subjects(settings)
    assert SUBJECT not in left and len(left) == 34
    with registry.session() as session:
        row = session.scalars(select(WithdrawalRow)).one()
    assert (row.by, row.reason, row.dataset) == ("dr.curator", "consent", DATASET)
    assert row.erased_time is not None


def test_the_service_withdraws_from_a_warehouse_on_s3(
    tmp_path: Path,
    submissions: Path,
    ontology_cache: Path,
    moto_endpoint: str,
    warehouse_bucket: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The service as ``harmonize serve`` starts it, from the variables the worker reads:
    ``HARMONIZE_WAREHOUSE`` (a bucket) and ``HARMONIZE_S3_ENDPOINT_URL``."""
    source = tmp_path / "suox-isod"
    shutil.copytree(submissions / "suox-isod", source)
    manifest = source / "manifest.yaml"  # public: its objects download without a visa
    manifest.write_text(manifest.read_text().replace("access: controlled", "access: public"))
    warehouse = f"s3://{warehouse_bucket}/warehouse"
    settings = Settings(
        workspace=tmp_path / "ws",
        ontology_cache=ontology_cache,
        run_great_expectations=False,
        data_docs=False,
        warehouse_url=warehouse,
        s3_endpoint_url=moto_endpoint,
    )
    assert ingest(source, settings).status == "published"
    assert not (settings.workspace / "published").exists()  # everything is in the bucket
    assert SUBJECT in subjects(settings)
    for name in ("HARMONIZE_WORKSPACE", "HARMONIZE_REGISTRY_URL", "HARMONIZE_LANDING_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HARMONIZE_DRS_WORKSPACE", str(settings.workspace))
    monkeypatch.setenv("HARMONIZE_DRS_ADMIN_TOKEN", TOKEN)
    monkeypatch.setenv("HARMONIZE_WAREHOUSE", warehouse)
    monkeypatch.setenv("HARMONIZE_S3_ENDPOINT_URL", moto_endpoint)
    body = {"dataset": DATASET, "subject": SUBJECT, "by": "dr.curator", "erase": True}
    with TestClient(app_from_env()) as api:
        # DRS serves the bucket's bytes: presigned URLs derived from HARMONIZE_WAREHOUSE
        other = next(
            r
            for r in Registry(settings.registry).objects_for_submission("suox-isod")
            if r.name.endswith(".json") and "9050047" not in r.name and not r.is_bundle
        )
        access = api.get(f"/ga4gh/drs/v1/objects/{other.id}/access/s3")
        assert access.status_code == 200, access.text
        assert access.json()["url"].startswith(moto_endpoint)
        fetched = httpx.get(access.json()["url"], timeout=30)
        assert hashlib.sha256(fetched.content).hexdigest() == other.sha256
        done = api.post(URL, json=body, headers=auth())
        assert done.status_code == 201, done.text
        answer = done.json()
    assert answer["rows"]["individuals"] == 1 and answer["erased"]["files"] > 0
    left = subjects(settings)  # read from the bucket
    assert SUBJECT not in left and len(left) == 34
    assert not (settings.workspace / "published").exists()  # nothing was written locally
