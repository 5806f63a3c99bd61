"""Withdrawal: one participant gone from every table, Phenopacket and DRS object; erased after.

A participant withdraws consent (GDPR Art. 7(3), 17): the data centre removes them from
everything it shares, shows that it did, and after erasure no byte of their data is left.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from harmonize.cli import app as cli
from harmonize.drs.app import create_app
from harmonize.drs.config import DrsSettings
from harmonize.drs.registry import Registry
from harmonize.errors import ConfigurationError
from harmonize.events import open_bus
from harmonize.intake.submit import submit
from harmonize.lifecycle.verify import verify
from harmonize.lifecycle.withdraw import withdraw
from harmonize.orchestrate.worker import run_worker
from harmonize.pipeline import ingest
from harmonize.settings import Settings
from harmonize.warehouse import TABLES, Warehouse, current

from .search import local_files, s3_files, traces

pytestmark = pytest.mark.integration

SUBJECT = "Proband 1 from PMID 9050047"  # a real individual of the SUOX cohort
PHENOPACKET = "PMID_36303223_Proband_1_from_PMID_9050047"


@pytest.fixture
def published(backend: Settings, tmp_path: Path, submissions: Path) -> tuple[Settings, Path]:
    """The SUOX cohort (public copy) submitted through the landing store and a worker, on
    SQLite + local disk, or PostgreSQL + S3 (moto): warehouse and landing store in a bucket."""
    source = tmp_path / "suox"
    shutil.copytree(submissions / "suox-isod", source)
    manifest = source / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("access: controlled", "access: public"))
    settings = backend.model_copy(update={"run_great_expectations": True, "data_docs": True})
    bus = open_bus(settings.events)
    submit(source, settings, bus=bus)
    stats = run_worker(settings, bus, once=True)
    assert [p.result.status for p in stats.processed] == ["published"], stats
    return settings, source


def everything(settings: Settings) -> Iterator[tuple[str, bytes]]:
    """Every file Harmonize keeps for this workspace: local, and in its bucket."""
    yield from local_files(settings.workspace)
    if settings.warehouse_url:
        import boto3

        bucket = settings.warehouse_url.removeprefix("s3://").split("/", 1)[0]
        client = boto3.client("s3", endpoint_url=settings.s3_endpoint_url)
        yield from s3_files(client, bucket)


def options(settings: Settings) -> list[str]:
    out = ["-w", str(settings.workspace)]
    if settings.registry_url:
        out += ["--registry-url", settings.registry_url]
    if settings.landing_url:
        out += ["--landing", settings.landing_url]
    if settings.warehouse_url:
        out += [
            "--warehouse",
            settings.warehouse_url,
            "--s3-endpoint-url",
            str(settings.s3_endpoint_url),
        ]
    return out


def rows_of(settings: Settings, column: str, value: str) -> dict[str, int]:
    registry = Registry(settings.registry)
    view = current(registry)
    out = {}
    for name in TABLES:
        table = Warehouse.of(settings).read(name, view)
        if column in table.column_names:
            out[name] = sum(1 for v in table.column(column).to_pylist() if v == value)
        else:
            out[name] = 0
    return out


def test_withdrawal_removes_the_participant_everywhere_and_erasure_leaves_no_trace(
    published: tuple[Settings, Path],
) -> None:
    settings, source = published
    registry = Registry(settings.registry)
    before = rows_of(settings, "phenopacket_id", PHENOPACKET)
    assert before["individuals"] == 1 and before["phenotypic_features"] > 0
    docs = [
        r for r in registry.objects_for_submission("suox-isod") if r.name == f"{PHENOPACKET}.json"
    ]
    bundle = next(r for r in registry.objects_for_submission("suox-isod") if r.is_bundle)
    assert len(docs) == 1

    result = CliRunner().invoke(
        cli,
        [
            "withdraw",
            "--dataset",
            "phenopacket-store",
            "--subject",
            SUBJECT,
            "--by",
            "dr.curator",
            "--reason",
            "consent withdrawn",
            *options(settings),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "withdrawn: withdrawal 1" in result.output

    # gone from all five tables
    assert set(rows_of(settings, "phenopacket_id", PHENOPACKET).values()) == {0}
    assert rows_of(settings, "subject_id", SUBJECT)["individuals"] == 0
    assert Warehouse.of(settings).read("individuals", current(registry)).num_rows == 34
    # their DRS objects answer withdrawn; the bundle has a new checksum
    drs = create_app(DrsSettings(workspace=settings.workspace, registry_url=settings.registry))
    with TestClient(drs) as client:  # (the bytes of S3 objects come presigned from the bucket)
        answer = client.get(f"/ga4gh/drs/v1/objects/{docs[0].id}")
        assert answer.status_code == 404 and "withdrawn" in answer.json()["msg"]
        new = client.get(f"/ga4gh/drs/v1/objects/{bundle.id}").json()
        assert new["checksums"][0]["checksum"] != bundle.sha256
        assert all(c["id"] != docs[0].id for c in new["contents"])

    # a later ingest never brings them back: the old version replayed...
    again = ingest(source, settings)
    assert again.status == "already-published"
    # ...or the same individuals under a new version of the submission
    v2 = source.parent / "suox-v2"
    shutil.copytree(source, v2)
    (v2 / "manifest.yaml").write_text(
        (v2 / "manifest.yaml").read_text().replace("Monarch Initiative", "Monarch")
    )
    result = ingest(v2, settings)
    assert result.status == "published", result.message
    assert rows_of(settings, "subject_id", SUBJECT)["individuals"] == 0
    report = (settings.reports_dir / "suox-isod" / "report.json").read_text()
    assert "withdrawn-subject" in report and SUBJECT not in report

    # bad input: an unknown subject changes nothing
    with pytest.raises(ConfigurationError, match="no individual with subject id"):
        withdraw(settings, registry, dataset="phenopacket-store", subject="nobody", by="x")

    # before erasure, the old snapshots still hold the rows (time travel)
    assert any("published/tables" in hit for hit in traces(PHENOPACKET, everything(settings)))
    erased = CliRunner().invoke(cli, ["tables", "expire", *options(settings)])
    assert erased.exit_code == 0, erased.output
    # after it, no byte of them anywhere under the workspace or in its bucket: tables,
    # published files, input copies, landing store, staging, runs, reports, the registry
    for needle in (SUBJECT, PHENOPACKET):
        assert traces(needle, everything(settings)) == [], needle
    assert verify(settings, registry) == []
    assert Warehouse.of(settings).read("individuals", current(registry)).num_rows == 34
