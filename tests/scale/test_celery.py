"""Airflow with the CeleryExecutor: two Celery workers on two hosts (network namespaces)
that share only S3 (moto), PostgreSQL, Kafka (three brokers) and Redis, all by address.

One ``infra/airflow.sh start --executor celery --workers 2`` for the module: the
api-server, scheduler, dag-processor, triggerer and Redis in the services' namespace,
one ``airflow celery worker`` per host, each with its own hostname and empty workspace,
under a read-only ``/`` (only its workspace is writable). The tests read Airflow's
task instances from its metadata database (PostgreSQL).

The order matters: the worker-loss test kills host 2 and runs last.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harmonize.events import open_bus
from harmonize.settings import Settings
from tests.scale.test_kafka_cluster import (
    check_published_once,
    published_on_s3,
    submission_copies,
    submitter_settings,
)
from tests.support.netns import NETNS, Hosts, ScaleServices

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from synth import write_submission

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW = ROOT / "infra" / "airflow.sh"
# the fan-out submission: HARMONIZE_SCALE_ROWS individuals; 8,000 in `make test`, the issue's
# 100,000 with HARMONIZE_SCALE_ROWS=100000. From 8,000 up the run has the same shape (16 raw
# batches over FANOUT mapped tasks) and the tests assert the same; what grows with the rows is
# the per-individual S3 traffic to moto (each Phenopacket pushed, pulled, published and
# re-hashed by `harmonize verify`), minutes of CPU at 20,000 on a 2-core CI machine.
LARGE = int(os.environ.get("HARMONIZE_SCALE_ROWS", "8000"))
BATCH = max(LARGE // 16, 500)  # rows per raw batch: 16 batches over FANOUT mapped tasks
FANOUT = 4
# seconds for a result: the machine these run on is shared and often loaded. 1800 s was too
# short for 100,000 rows (12 of 16 batches harmonized after 30 min, load average above 20)
WAIT = 1800 * max(1, LARGE // 20000)

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(WAIT + 1800)]


@dataclass
class CeleryAirflow:
    home: Path
    url: str
    db_url: str  # Airflow's metadata database
    hosts: Hosts
    services: ScaleServices

    def workspace(self, i: int) -> Path:
        return self.home / "hosts" / f"h{i}"

    def hostname(self, i: int) -> str:
        return f"{self.hosts.name}-h{i}"

    def task_instances(self, run_ids: set[str] | None = None) -> list[dict[str, Any]]:
        import psycopg
        from sqlalchemy.engine import make_url

        url = make_url(self.db_url)
        with psycopg.connect(
            host=url.host, port=url.port, user=url.username, dbname=url.database
        ) as conn:
            rows = conn.execute(
                "SELECT run_id, task_id, map_index, state, hostname, try_number"
                " FROM task_instance WHERE dag_id = 'harmonize_ingest'"
            ).fetchall()
        keys = ("run_id", "task_id", "map_index", "state", "hostname", "try_number")
        found = [dict(zip(keys, row, strict=True)) for row in rows]
        return [t for t in found if run_ids is None or t["run_id"] in run_ids]

    def task_log(self, ti: dict[str, Any]) -> list[str]:
        """A task instance's log as the api-server serves it (its events, in order)."""
        import json
        import urllib.request
        from urllib.parse import quote

        def get(url: str, headers: dict[str, str]) -> Any:
            request = urllib.request.Request(url, headers={"Accept": "application/json", **headers})
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read())

        token = get(f"{self.url}/auth/token", {})["access_token"]
        path = f"/api/v2/dags/harmonize_ingest/dagRuns/{quote(ti['run_id'], safe='')}"
        path += f"/taskInstances/{ti['task_id']}/logs/{ti['try_number']}"
        path += f"?map_index={ti['map_index']}&full_content=true"
        got = get(self.url + path, {"Authorization": f"Bearer {token}"})
        return [str(m.get("event", "")) for m in got["content"]]

    def worker_log(self, i: int) -> str:
        return (self.home / "logs" / f"worker-{i}.log").read_text(errors="replace")


def create_database(server_url: str, name: str) -> str:
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(server_url)
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def celery_airflow(
    netns_hosts: Hosts,
    scale_services: ScaleServices,
    tmp_path_factory: pytest.TempPathFactory,
    ontology_cache: Path,
) -> Iterator[CeleryAirflow]:
    base = tmp_path_factory.mktemp("celery")
    db = create_database(scale_services.registry_url, "airflow")
    env = {
        **os.environ,  # the S3 credentials (scale_services sets them)
        "HARMONIZE_WORKSPACE": str(base / "scheduler-workspace"),
        "HARMONIZE_ONTOLOGY_CACHE": str(ontology_cache),  # the services' side only
        "HARMONIZE_EVENTS_URL": scale_services.events_url,
        "HARMONIZE_REGISTRY_URL": scale_services.registry_url,
        "HARMONIZE_WAREHOUSE": f"s3://{scale_services.bucket}/warehouse",
        "HARMONIZE_LANDING_URL": f"s3://{scale_services.bucket}/landing",
        "HARMONIZE_S3_ENDPOINT_URL": scale_services.s3_endpoint,
        "HARMONIZE_ON_CONFLICT": "keep-observed",
        "HARMONIZE_BATCH_SIZE": str(BATCH),
        "HARMONIZE_FANOUT": str(FANOUT),
        "HARMONIZE_SCAN_SCHEDULE": "3600",
        "HARMONIZE_TRIGGER_GROUP": "harmonize-airflow-celery",
    }
    home = base / "home"
    argv = ["bash", str(AIRFLOW), "start", str(home), "--executor", "celery", "--workers", "2"]
    argv += ["--netns", netns_hosts.name, "--db", db]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900, check=False)
    try:
        if done.returncode != 0:
            logs = "\n".join(
                f"== {p.name}\n{p.read_text(errors='replace')[-2000:]}"
                for p in sorted((home / "logs").glob("*.log"))
            )
            pytest.fail(f"infra/airflow.sh start failed:\n{done.stderr[-3000:]}\n{logs}")
        url = done.stdout.strip().splitlines()[-1]
        yield CeleryAirflow(home, url, db, netns_hosts, scale_services)
    finally:
        subprocess.run(["bash", str(AIRFLOW), "stop", str(home)], capture_output=True, check=False)


def submit_all(services: ScaleServices, paths: list[Path], workspace: Path) -> set[str]:
    from harmonize.intake import submit

    settings: Settings = submitter_settings(services, workspace)
    bus = open_bus(settings.events)
    try:
        return {submit(path, settings, bus=bus).submission_id for path in paths}
    finally:
        bus.close()


def wait_tasks_done(airflow: CeleryAirflow, timeout: float = 600) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        tis = airflow.task_instances()
        if tis and all(t["state"] in ("success", "skipped", "failed") for t in tis):
            return tis
        if time.monotonic() > deadline:
            pytest.fail(f"task instances not done: {tis}")
        time.sleep(2)


def test_one_submission_runs_on_the_worker_hosts(
    celery_airflow: CeleryAirflow, submissions: Path, tmp_path: Path
) -> None:
    services = celery_airflow.services
    copies = submission_copies(submissions / "clinic-tabular", tmp_path / "in", "cs", 1)
    sids = submit_all(services, copies, tmp_path / "submitter")
    check_published_once(services, sids, "cs")
    tis = wait_tasks_done(celery_airflow)
    hosts = {celery_airflow.hostname(1), celery_airflow.hostname(2)}
    done = {t["task_id"] for t in tis if t["state"] == "success"}
    # one batch: the receive task publishes it itself and skips harmonize and publish
    assert "receive" in done, tis
    # (so do runs that received only the trigger's flush)
    assert {t["state"] for t in tis} <= {"success", "skipped"}, tis
    ran = {t["hostname"] for t in tis if t["state"] == "success"}
    assert ran and ran <= hosts, tis  # only the worker hosts ran tasks


def test_a_large_submission_fans_out_over_both_hosts(
    celery_airflow: CeleryAirflow, tmp_path: Path
) -> None:
    services = celery_airflow.services
    before = {t["run_id"] for t in celery_airflow.task_instances()}
    sid = f"fan-{LARGE}"
    write_submission(tmp_path / "in" / sid, LARGE, submission_id=sid)
    sids = submit_all(services, [tmp_path / "in" / sid], tmp_path / "submitter")
    check_published_once(services, sids, "fan", WAIT)
    tis = [t for t in wait_tasks_done(celery_airflow) if t["run_id"] not in before]
    mapped = [t for t in tis if t["task_id"] == "harmonize" and t["state"] == "success"]
    assert len(mapped) == FANOUT, tis
    assert {t["state"] for t in tis} <= {"success", "skipped"}, tis
    assert {t["hostname"] for t in mapped} == {
        celery_airflow.hostname(1),
        celery_airflow.hostname(2),
    }, mapped
    assert sid in published_on_s3(services)
    check_task_logs_on_s3(celery_airflow, mapped)
    argv = [str(Path(sys.executable).with_name("harmonize")), "verify"]
    argv += ["-w", str(tmp_path / "verifier"), "--registry-url", services.registry_url]
    argv += ["--warehouse", f"s3://{services.bucket}/warehouse"]
    argv += ["--s3-endpoint-url", services.s3_endpoint]
    # `verify` re-reads every object from moto: about ten minutes at 100,000 rows
    verify = subprocess.run(
        argv, capture_output=True, text=True, timeout=600 * max(1, LARGE // 20000), check=False
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr


def check_task_logs_on_s3(airflow: CeleryAirflow, mapped: list[dict[str, Any]]) -> None:
    """The api-server shows a mapped task's log from S3 (Airflow's remote logging): it
    cannot read the worker host's disk, and the host's own copy is deleted first."""
    bucket = airflow.services.bucket
    remote = f"s3://{bucket}/warehouse/airflow-logs/dag_id=harmonize_ingest/"
    for i in (1, 2):
        (ti, *_) = [t for t in mapped if t["hostname"] == airflow.hostname(i)]
        local = airflow.workspace(i) / "airflow" / "logs"
        ours = [p for p in local.rglob("*.log") if f"run_id={ti['run_id']}" in str(p)]
        assert ours, f"host {i} kept no log of {ti}"
        for path in ours:
            path.unlink()
        events = airflow.task_log(ti)
        assert any(e.startswith(remote) for e in events), events[:10]
        assert any(f"on host {ti['hostname']}" in e for e in events), events[-20:]


def test_the_hosts_share_nothing_but_the_services(celery_airflow: CeleryAirflow) -> None:
    """Each worker ran under a read-only / with only its own workspace writable, and its
    workspace holds runs and caches, nothing published: that is all on S3 and PostgreSQL."""
    for i in (1, 2):
        workspace = celery_airflow.workspace(i)
        pids = subprocess.run(
            ["ip", "netns", "pids", celery_airflow.hostname(i)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        assert pids, f"nothing runs on host {i}"
        for pid in pids:
            mounts = {
                line.split()[4]: line.split()[5].split(",")
                for line in Path(f"/proc/{pid}/mountinfo").read_text().splitlines()
            }
            assert "ro" in mounts["/"], (pid, mounts["/"])
            assert "rw" in mounts[str(workspace)], (pid, mounts.get(str(workspace)))
        top = {p.name for p in workspace.iterdir()}
        assert "published" not in top and "registry.sqlite" not in top, top
        assert (workspace / "runs").is_dir()  # the runs it worked on, pulled from S3
    log = celery_airflow.worker_log(1) + celery_airflow.worker_log(2)
    assert "Read-only file system" not in log
    runs = {p.name for i in (1, 2) for p in (celery_airflow.workspace(i) / "runs").iterdir()}
    assert runs  # and the services' own workspace got none: no task ran there
    scheduler_ws = celery_airflow.home.parent / "scheduler-workspace"
    assert not (scheduler_ws / "runs").exists()


def test_a_killed_worker_host_s_task_is_retried_on_the_other(
    celery_airflow: CeleryAirflow, tmp_path: Path
) -> None:
    services = celery_airflow.services
    before = {t["run_id"] for t in celery_airflow.task_instances()}
    sid = "loss-1"
    write_submission(tmp_path / "in" / sid, max(LARGE // 2, 2000), submission_id=sid)
    sids = submit_all(services, [tmp_path / "in" / sid], tmp_path / "submitter")
    victim = celery_airflow.hostname(2)
    deadline = time.monotonic() + 600
    running: list[dict[str, Any]] = []
    while not running:
        assert time.monotonic() < deadline, celery_airflow.task_instances()
        running = [
            t
            for t in celery_airflow.task_instances()
            if t["run_id"] not in before
            and t["task_id"] == "harmonize"
            and t["state"] == "running"
            and t["hostname"] == victim
        ]
        time.sleep(0.5)
    killed = subprocess.run(
        ["bash", str(NETNS), "kill", celery_airflow.hosts.name, "2"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert killed.returncode == 0, killed.stderr
    check_published_once(services, sids, "loss", WAIT)
    tis = [t for t in wait_tasks_done(celery_airflow, WAIT) if t["run_id"] not in before]
    assert {t["state"] for t in tis} <= {"success", "skipped"}, tis
    for lost in running:
        (again,) = [
            t
            for t in tis
            if (t["run_id"], t["task_id"], t["map_index"])
            == (lost["run_id"], lost["task_id"], lost["map_index"])
        ]
        assert again["hostname"] == celery_airflow.hostname(1), again
        assert again["try_number"] > lost["try_number"], (lost, again)
