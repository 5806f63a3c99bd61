"""How the service composes its features: one pipeline's settings for the admin API and the
dashboard, on the DRS service's workspace and registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harmonize.dashboard import AccessToken, DashboardSettings
from harmonize.drs.app import create_app as create_drs_app
from harmonize.drs.config import DrsSettings, default_registry_url
from harmonize.settings import Settings
from harmonize.web import WebSettings, app_from_env, create_app


def test_the_service_reads_the_pipeline_variables_the_worker_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps([{"token": "c" * 24, "role": "curator", "name": "dr.c"}]))
    monkeypatch.setenv("HARMONIZE_DRS_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.setenv("HARMONIZE_WORKSPACE", str(tmp_path / "elsewhere"))  # DRS's wins
    monkeypatch.setenv("HARMONIZE_WAREHOUSE", "s3://bucket/published-data")
    monkeypatch.setenv("HARMONIZE_S3_ENDPOINT_URL", "http://127.0.0.1:9000")
    monkeypatch.setenv("HARMONIZE_INTAKE_S3_ENDPOINT_URL", "http://127.0.0.1:9001")
    monkeypatch.setenv("HARMONIZE_INTAKE_TOKENS", json.dumps({"i" * 24: "Clinic A"}))
    monkeypatch.setenv("HARMONIZE_INTAKE_LANDING_URL", "s3://bucket/landing")
    monkeypatch.setenv("HARMONIZE_DASHBOARD_TOKENS_FILE", str(tokens))
    monkeypatch.setenv("HARMONIZE_DASHBOARD_SECRET_KEY", "k" * 40)
    app = app_from_env()
    pipeline: Settings = app.state.pipeline
    assert pipeline.workspace == tmp_path / "ws"
    assert pipeline.registry == default_registry_url(tmp_path / "ws")
    assert pipeline.warehouse_url == "s3://bucket/published-data"
    assert pipeline.s3_endpoint_url == "http://127.0.0.1:9000"  # HARMONIZE_S3_ENDPOINT_URL wins
    assert pipeline.landing == "s3://bucket/landing"  # where the intake lands uploads
    assert app.state.dashboard.pipeline is pipeline  # withdrawals act on the same data
    s3 = app.state.web_settings.drs.s3  # DRS serves the warehouse's bucket
    assert (s3.bucket, s3.prefix, s3.endpoint_url) == (
        "bucket",
        "published-data",
        "http://127.0.0.1:9000",
    )
    monkeypatch.setenv("HARMONIZE_DRS_S3_BUCKET", "mirror")  # DRS's own setting wins
    assert app_from_env().state.web_settings.drs.s3.bucket == "mirror"


def test_the_dashboard_keeps_its_own_pipeline_and_registry_must_match(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    drs = DrsSettings(workspace=ws, registry_url=default_registry_url(ws))
    own = Settings(workspace=ws, run_great_expectations=False)
    app = create_app(
        WebSettings(
            drs=drs,
            dashboard=DashboardSettings(
                secret_key="k" * 40,
                tokens=[AccessToken(token="c" * 24, role="curator", name="dr.c")],
                pipeline=own,
            ),
        )
    )
    assert app.state.dashboard.pipeline is own
    assert app.state.pipeline.workspace == ws  # the admin API's default: DRS's own
    other = Settings(workspace=tmp_path / "other")
    with pytest.raises(ValueError, match="withdrawals would change another registry"):
        create_drs_app(drs, pipeline=other)


def test_the_intakes_s3_endpoint_reaches_its_landing_store_when_no_other_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HARMONIZE_S3_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("HARMONIZE_WAREHOUSE", raising=False)
    monkeypatch.setenv("HARMONIZE_DRS_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.setenv("HARMONIZE_INTAKE_TOKENS", json.dumps({"i" * 24: "Clinic A"}))
    monkeypatch.setenv("HARMONIZE_INTAKE_LANDING_URL", "s3://bucket/landing")
    monkeypatch.setenv("HARMONIZE_INTAKE_S3_ENDPOINT_URL", "http://127.0.0.1:9001")
    pipeline: Settings = app_from_env().state.pipeline
    assert pipeline.landing == "s3://bucket/landing"
    assert pipeline.s3_endpoint_url == "http://127.0.0.1:9001"
    assert pipeline.warehouse_url is None  # the workspace
