"""The ingest DAG's task bodies on three "hosts" that share only S3 and the registry.

Each task body runs with a workspace of its own (as Celery workers on separate hosts
would): the run directories reach the next task through the S3 warehouse (moto), and the
landed submission is fetched again from the S3 landing store.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

from harmonize.events import SUBMISSIONS
from harmonize.intake import submit
from harmonize.orchestrate import handoff
from harmonize.settings import Settings
from tests.orchestrate.conftest import drain

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from synth import write_submission


def test_tasks_on_hosts_sharing_only_s3_publish_a_fanned_out_run(
    settings: Settings,
    moto_endpoint: str,
    warehouse_bucket: str,
    tmp_path: Path,
) -> None:
    from harmonize.events import open_bus
    from harmonize.orchestrate.tasks import harmonize_unit, publish_units, receive_and_read
    from harmonize.orchestrate.trigger import message_payload

    shared = settings.model_copy(
        update={
            "registry_url": f"sqlite:///{tmp_path / 'registry.sqlite'}",  # as PostgreSQL
            "warehouse_url": f"s3://{warehouse_bucket}/warehouse",
            "landing_url": f"s3://{warehouse_bucket}/landing",
            "s3_endpoint_url": moto_endpoint,
            "workspace": tmp_path / "submitter",
        }
    )

    def host(name: str) -> dict[str, str]:
        return {
            "HARMONIZE_WORKSPACE": str(tmp_path / name),
            "HARMONIZE_EVENTS_URL": shared.events,
            "HARMONIZE_LANDING_URL": shared.landing,
            "HARMONIZE_WAREHOUSE": str(shared.warehouse_url),
            "HARMONIZE_REGISTRY_URL": str(shared.registry_url),
            "HARMONIZE_S3_ENDPOINT_URL": moto_endpoint,
            "HARMONIZE_ONTOLOGY_CACHE": str(shared.cache_dir),
            "HARMONIZE_ON_CONFLICT": shared.on_conflict,
            "HARMONIZE_BATCH_SIZE": "30",
            "HARMONIZE_FANOUT": "2",
        }

    bus: Any = open_bus(shared.events)
    try:
        for sid, rows in (("hand-big", 70), ("hand-small", 10)):
            write_submission(tmp_path / "in" / sid, rows, submission_id=sid)
            submit(tmp_path / "in" / sid, shared, bus=bus)
        payloads = [message_payload(m) for m in drain(bus, SUBMISSIONS)]
    finally:
        bus.close()
    units = receive_and_read(payloads, host("h1"))
    assert len(units) == 2
    shutil.rmtree(tmp_path / "h1")  # the reading host's disk is gone: everything is on S3
    done = [harmonize_unit(unit, host(f"h{2 + i}")) for i, unit in enumerate(units)]
    for i, batches in enumerate(done):
        assert all(b.startswith(str(tmp_path / f"h{2 + i}")) for b in batches), batches
    # the batch hosts' disks are gone too: what they wrote for the report (Data Docs pages,
    # findings) reaches the publishing host through S3 only
    for i in range(len(units)):
        shutil.rmtree(tmp_path / f"h{2 + i}")
    # hand-small reads into one batch: the receive task on h1 published it itself
    # (tasks.run_inline), straight to S3; only hand-big was fanned out
    results = publish_units(units, host("h4"))
    assert sorted((r["submission_id"], r["status"]) for r in results) == [
        ("hand-big", "published"),
    ]
    # a retry on yet another host finds it published and announces it again
    again = publish_units(units, host("h5"))
    assert sorted(r["submission_id"] for r in again) == ["hand-big"]
    assert not (tmp_path / "h1").exists()
    check_report_on_s3("hand-big", shared)
    import boto3

    s3 = boto3.client("s3", endpoint_url=moto_endpoint)
    keys = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=warehouse_bucket, Prefix="warehouse/published/phenopackets/"
        )
        for o in page.get("Contents", [])
    ]
    assert {k.split("/")[3] for k in keys} == {"hand-big", "hand-small"}
    assert sum(1 for k in keys if k.split("/")[3] == "hand-big") >= 70  # every individual
    # the hand-off itself: one archive per push and the late files, not a file per individual
    handed = [
        o["Key"].split("/", 3)[3]
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=warehouse_bucket, Prefix="warehouse/runs/"
        )
        for o in page.get("Contents", [])
    ]
    assert handed and all(
        (k.startswith("packs/") and k.endswith(".tar")) or Path(k).name in handoff._LATE
        for k in handed
    ), handed
    assert len(handed) < 20, handed


def test_push_packs_and_pull_fetches_only_the_batches_asked_for(
    settings: Settings, moto_endpoint: str, warehouse_bucket: str, tmp_path: Path
) -> None:
    import boto3

    s3 = settings.model_copy(
        update={
            "warehouse_url": f"s3://{warehouse_bucket}/packs-test",
            "s3_endpoint_url": moto_endpoint,
            "workspace": tmp_path / "writer",
        }
    )
    run = s3.workspace / "runs" / "run-1"
    (run / "event.json").parent.mkdir(parents=True)
    (run / "event.json").write_text("{}")
    for batch in ("00000", "00001"):
        (run / "batches" / batch).mkdir(parents=True)
        (run / "batches" / batch / "raw.arrow").write_text(f"raw {batch}")
    handoff.push(run, s3)  # the run as read (its raw batches): one pack
    for batch in ("00000", "00001"):  # each batch harmonized: one pack each
        files = run / "batches" / batch / "published"
        files.mkdir(parents=True)
        for i in range(200):
            (files / f"p{i}.json").write_text(f'{{"id": "{batch}-{i}"}}')
        (run / "batches" / batch / "outcome.json").write_text('{"status": "ok"}')
        handoff.push(run, s3, under=f"batches/{batch}")
    listed = boto3.client("s3", endpoint_url=moto_endpoint).list_objects_v2(
        Bucket=warehouse_bucket, Prefix="packs-test/runs/run-1/"
    )
    names = sorted(o["Key"].removeprefix("packs-test/runs/run-1/") for o in listed["Contents"])
    assert names == [
        "batches/00000/outcome.json",
        "batches/00001/outcome.json",
        "packs/batches~00000.tar",
        "packs/batches~00001.tar",
        "packs/run.tar",
    ]
    reader = s3.model_copy(update={"workspace": tmp_path / "reader"})
    local = handoff.pull([str(run)], reader, batches={"00001"})[str(run)]
    assert local == tmp_path / "reader" / "runs" / "run-1"
    assert (local / "batches" / "00001" / "outcome.json").exists()
    assert (local / "batches" / "00001" / "published" / "p199.json").read_text() == (
        '{"id": "00001-199"}'
    )
    assert (local / "batches" / "00000" / "raw.arrow").read_text() == "raw 00000"
    # what another task wrote for its batch is not fetched
    assert not (local / "batches" / "00000" / "published").exists()
    assert not (local / "batches" / "00000" / "outcome.json").exists()
    whole = handoff.pull([str(run)], reader.model_copy(update={"workspace": tmp_path / "all"}))
    assert len(list((whole[str(run)] / "batches").rglob("p*.json"))) == 400


def check_report_on_s3(sid: str, shared: Settings) -> None:
    """``harmonize report SID --html`` (read from S3) links the Data Docs pages a batch
    host wrote, every link is an object there, and so is every page the dashboard lists."""
    import re

    from typer.testing import CliRunner

    from harmonize.cli import app
    from harmonize.dashboard.report_view import data_docs, load_report
    from harmonize.quality.report_store import read_report_file, report_location
    from harmonize.state.store import StateStore

    argv = ["report", sid, "--registry-url", str(shared.registry_url)]
    argv += ["--s3-endpoint-url", str(shared.s3_endpoint_url), "--html"]
    shown = CliRunner().invoke(app, argv)
    assert shown.exit_code == 0, shown.output
    links = re.findall(r'href="(data-docs/[^"]+)"', shown.output)
    assert links, shown.output[-2000:]
    (uri,) = {v["report_path"] for v in StateStore(shared.registry).versions(sid)}
    assert uri.startswith(f"{shared.warehouse_url}/reports/{sid}/"), uri
    report = load_report(uri, s3_endpoint_url=shared.s3_endpoint_url)
    assert report is not None
    # the dashboard, on yet another host, lists the same pages and reads them from S3
    pages = data_docs(report, Path("/elsewhere/reports"), sid)
    assert sorted(pages) == sorted(set(links)), (pages, links)
    for rel in pages:
        location = report_location(uri, rel)
        assert location is not None
        page = read_report_file(location, s3_endpoint_url=shared.s3_endpoint_url)
        assert b"<html" in page.lower(), rel
    assert any(v.startswith("gx:") for v in report["validators"]), report["validators"]
