"""A submission's quality report goes to the warehouse's object store when there is one, so
that a host other than the worker that wrote it (the dashboard's, ``harmonize report``)
reads it from there."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import boto3
import pytest
from typer.testing import CliRunner

from harmonize.cli import app as cli
from harmonize.pipeline import ingest
from harmonize.quality.findings import QualityReport
from harmonize.quality.report_store import read_report_file, save_report
from harmonize.settings import Settings
from harmonize.state.store import StateStore
from tests.conftest import SUBMISSIONS
from tests.dashboard.conftest import CURATOR, make_env

SID = "clinic-2026-11"  # clinic-tabular's id


def clinic_copy(target: Path, *, sex_of_cl002: str) -> Path:
    """clinic-tabular with CL-002's sex cell set to ``sex_of_cl002`` (``mle`` is rejected)."""
    shutil.copytree(SUBMISSIONS / "clinic-tabular", target)
    table = target / "clinic_export.csv"
    before = table.read_bytes()
    after = before.replace(b"CL-002,male,", f"CL-002,{sex_of_cl002},".encode())
    table.write_bytes(after)
    manifest = target / "manifest.yaml"
    old, new = hashlib.sha256(before).hexdigest(), hashlib.sha256(after).hexdigest()
    manifest.write_text(manifest.read_text().replace(old, new))
    return target


def objects(endpoint: str, bucket: str, prefix: str) -> set[str]:
    listed = boto3.client("s3", endpoint_url=endpoint).list_objects_v2(Bucket=bucket, Prefix=prefix)
    return {item["Key"][len(prefix) :] for item in listed.get("Contents", [])}


def test_without_a_warehouse_the_report_is_the_workspace_copy(tmp_path: Path) -> None:
    settings = Settings(workspace=tmp_path / "ws")
    saved = save_report(QualityReport(submission_id="s1", status="rejected"), settings)
    assert saved.json_path == settings.reports_dir / "s1" / "report.json"
    assert saved.uri == str(saved.json_path)
    assert json.loads(read_report_file(saved.uri))["status"] == "rejected"


def test_a_local_warehouse_gets_a_copy_of_the_report_folder(tmp_path: Path) -> None:
    settings = Settings(workspace=tmp_path / "ws", warehouse_url=str(tmp_path / "wh"))
    report = QualityReport(submission_id="s1", status="rejected")
    (settings.reports_dir / "s1" / "data-docs").mkdir(parents=True)
    (settings.reports_dir / "s1" / "data-docs" / "raw.html").write_text("<p>docs</p>")
    saved = save_report(report, settings)
    assert saved.uri == str(tmp_path / "wh" / "reports" / "s1" / "report.json")
    assert (tmp_path / "wh" / "reports" / "s1" / "data-docs" / "raw.html").read_text() == (
        "<p>docs</p>"
    )


@pytest.mark.integration
def test_a_rejected_report_is_read_from_s3_by_another_host(
    tmp_path: Path, ontology_cache: Path, moto_endpoint: str, warehouse_bucket: str
) -> None:
    """The worker's report folder is only a cache: with it gone, the dashboard on another
    workspace shows the findings and serves the report's HTML from S3."""
    warehouse = f"s3://{warehouse_bucket}/warehouse"
    worker = Settings(
        workspace=tmp_path / "worker",
        ontology_cache=ontology_cache,
        warehouse_url=warehouse,
        s3_endpoint_url=moto_endpoint,
        run_great_expectations=False,
        data_docs=False,
    )
    result = ingest(clinic_copy(tmp_path / "bad", sex_of_cl002="mle"), worker)
    assert result.status == "rejected", result.message
    uri = f"{warehouse}/reports/{SID}/report.json"
    assert result.report_uri == uri
    (row,) = StateStore(worker.registry).versions(SID)
    assert row["report_path"] == uri
    prefix = f"warehouse/reports/{SID}/"
    assert objects(moto_endpoint, warehouse_bucket, prefix) == {"report.json", "report.html"}
    stored = json.loads(read_report_file(uri, s3_endpoint_url=moto_endpoint))
    (error,) = [f for f in stored["findings"] if f["level"] == "error"]
    where = error["location"]
    assert (where["file"], where["row"], where["column"], where["value"]) == (
        "clinic_export.csv",
        3,
        "gender",
        "mle",
    )

    shutil.rmtree(worker.reports_dir)  # the worker lost its cache
    dashboard = make_env(
        tmp_path / "dashboard",
        pipeline=Settings(
            workspace=tmp_path / "dashboard",
            registry_url=worker.registry,
            warehouse_url=warehouse,
            s3_endpoint_url=moto_endpoint,
        ),
    )
    client = dashboard.client(CURATOR)
    page = client.get(f"/dashboard/submissions/{SID}")
    assert page.status_code == 200
    assert "bad-value" in page.text and "mle" in page.text
    assert f"/dashboard/reports/{SID}/report.html" in page.text
    html = client.get(f"/dashboard/reports/{SID}/report.html")
    assert html.status_code == 200, html.text
    assert html.headers["content-type"].startswith("text/html")
    assert "mle" in html.text and "clinic_export.csv" in html.text
    assert client.get(f"/dashboard/reports/{SID}/nothing.html").status_code == 404
    assert not (tmp_path / "dashboard" / "reports").exists()
    where_from = ["--registry-url", worker.registry, "--s3-endpoint-url", moto_endpoint]
    shown = CliRunner().invoke(cli, ["report", SID, "-w", str(tmp_path / "dashboard"), *where_from])
    assert shown.exit_code == 0, shown.output
    assert f"rejected {SID} (1 error" in shown.output and uri in shown.output
    assert "bad-value" in shown.output and "gender" in shown.output
    page_html = CliRunner().invoke(cli, ["report", SID, "--html", *where_from])
    assert page_html.exit_code == 0 and "<html" in page_html.output and "mle" in page_html.output

    # the fixed version is published; its report replaces the rejected one on S3
    fixed = ingest(clinic_copy(tmp_path / "good", sex_of_cl002="male"), worker)
    assert fixed.status == "published", fixed.message
    assert fixed.report_uri == uri
    stored = json.loads(read_report_file(uri, s3_endpoint_url=moto_endpoint))
    assert stored["status"] == "published"
    assert {v["report_path"] for v in StateStore(worker.registry).versions(SID)} == {uri}


def test_a_withdrawal_sweep_scrubs_the_warehouse_copy(
    tmp_path: Path, moto_endpoint: str, warehouse_bucket: str
) -> None:
    """The copy in the warehouse loses the participant's findings and its Data Docs, even
    on a host that never had the local copy."""
    from harmonize.lifecycle.erase import _scrub_stored_report
    from harmonize.quality.findings import Finding, Location

    settings = Settings(
        workspace=tmp_path / "ws",
        warehouse_url=f"s3://{warehouse_bucket}/warehouse",
        s3_endpoint_url=moto_endpoint,
    )

    def finding(pid: str) -> Finding:
        where = Location(file="a.csv", row=2, column="sex", value="x", phenopacket_id=pid)
        return Finding(
            level="warning", category="odd", message=f"odd {pid}", validator="t", location=where
        )

    report = QualityReport(submission_id="s1", findings=[finding("P-gone"), finding("P-kept")])
    docs = settings.reports_dir / "s1" / "data-docs"
    docs.mkdir(parents=True)
    (docs / "raw.html").write_text("<td>P-gone</td>")
    save_report(report, settings)
    shutil.rmtree(settings.reports_dir)  # the sweep runs on another host

    _scrub_stored_report(settings, "s1", {"P-gone"})
    prefix = "warehouse/reports/s1/"
    assert objects(moto_endpoint, warehouse_bucket, prefix) == {"report.json", "report.html"}
    s3 = boto3.client("s3", endpoint_url=moto_endpoint)
    for name in ("report.json", "report.html"):
        body = s3.get_object(Bucket=warehouse_bucket, Key=prefix + name)["Body"].read()
        assert b"P-gone" not in body and b"P-kept" in body, name
