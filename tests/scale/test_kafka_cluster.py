"""Scale-out with ``harmonize worker``: two hosts (network namespaces) in one consumer group,
sharing only a three-broker Kafka cluster, PostgreSQL and S3 (moto), all by address.

Each host starts with an empty workspace of its own, and its worker runs confined
(``infra/confine.sh``): in a mount namespace where every file system but that workspace is
read-only, so a write anywhere else fails. The tests submit bursts of 20 submissions from
this (the services') namespace and check, from the registry's publication ledger, that each
was published exactly once.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harmonize.events import RESULTS, SUBMISSIONS, open_bus, parse_envelope
from harmonize.settings import Settings
from tests.support.netns import Hosts, ScaleServices

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

HARMONIZE = str(Path(sys.executable).with_name("harmonize"))
CONFINE = str(Path(__file__).resolve().parents[2] / "infra" / "confine.sh")
GROUP = "harmonize-worker"  # the default group: both tests' workers are its members in turn
BURST = 20


def submission_copies(source: Path, out: Path, prefix: str, n: int) -> list[Path]:
    """``n`` copies of a sample submission, each under its own submission id."""
    manifest = (source / "manifest.yaml").read_text()
    first = next(line for line in manifest.splitlines() if line.startswith("submission_id:"))
    copies = []
    for i in range(n):
        target = out / f"{prefix}-{i:02d}"
        shutil.copytree(source, target)
        (target / "manifest.yaml").write_text(
            manifest.replace(first, f"submission_id: {prefix}-{i:02d}")
        )
        copies.append(target)
    return copies


def rejected_copy(source: Path, target: Path, sid: str) -> Path:
    """clinic-tabular as ``sid`` with CL-002's sex cell misspelt (row 3, ``mle``): rejected."""
    shutil.copytree(source, target)
    table = target / "clinic_export.csv"
    before = table.read_bytes()
    after = before.replace(b"CL-002,male,", b"CL-002,mle,")
    assert after != before
    table.write_bytes(after)
    manifest = (target / "manifest.yaml").read_text()
    first = next(line for line in manifest.splitlines() if line.startswith("submission_id:"))
    manifest = manifest.replace(first, f"submission_id: {sid}")
    old, new = hashlib.sha256(before).hexdigest(), hashlib.sha256(after).hexdigest()
    (target / "manifest.yaml").write_text(manifest.replace(old, new))
    return target


def confined(host: Any, argv: list[str]) -> list[str]:
    """``argv`` run so that it can write in ``host``'s workspace only (infra/confine.sh)."""
    return [CONFINE, str(host.workspace), "--", *argv]


def host_env(host: Any) -> dict[str, str]:
    """Python's bytecode cache in the workspace: the checkout is read-only to the host."""
    return {"PYTHONPYCACHEPREFIX": str(host.workspace / "pycache")}


def submitter_settings(services: ScaleServices, workspace: Path) -> Settings:
    return Settings(
        workspace=workspace,
        events_url=services.events_url,
        registry_url=services.registry_url,
        landing_url=f"s3://{services.bucket}/landing",
        warehouse_url=f"s3://{services.bucket}/warehouse",
        s3_endpoint_url=services.s3_endpoint,
    )


class Workers:
    """``harmonize worker`` on each host, all in :data:`GROUP`, logging to files here."""

    def __init__(self, hosts: Hosts, services: ScaleServices, logs: Path) -> None:
        self.hosts, self.services, self.logs = hosts, services, logs
        self.processes: list[Any] = []

    def start(self) -> None:
        for i, host in enumerate(self.hosts.hosts, 1):
            log = (self.logs / f"worker-{i}.log").open("ab")
            argv = [HARMONIZE, "worker", "-w", str(host.workspace)]
            argv += [*self.services.worker_args(), "--group", GROUP]
            argv += ["--on-conflict", "keep-observed"]
            self.processes.append(
                self.hosts.run(i, confined(host, argv), env=host_env(host), log=log)
            )

    def output(self, i: int) -> str:
        return (self.logs / f"worker-{i}.log").read_text(errors="replace")

    def processed(self, i: int) -> list[str]:
        """The submission ids worker ``i`` printed as processed ("published <id>")."""
        return [
            line.split()[1] for line in self.output(i).splitlines() if line.startswith("published ")
        ]

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except Exception:
                process.kill()
                process.wait(timeout=30)

    def check_alive(self) -> None:
        for i, process in enumerate(self.processes, 1):
            assert process.poll() is None, f"worker {i} exited:\n{self.output(i)[-3000:]}"


@pytest.fixture
def workers(netns_hosts: Hosts, scale_services: ScaleServices, tmp_path: Path) -> Iterator[Workers]:
    running = Workers(netns_hosts, scale_services, tmp_path)
    try:
        running.start()
        wait_for_members(scale_services, 2, running)
        yield running
    finally:
        running.stop()


def wait_for_members(services: ScaleServices, n: int, workers: Workers) -> None:
    """Until the group has ``n`` members sharing the submissions topic's partitions."""
    from kafka.admin import KafkaAdminClient
    from kafka.errors import KafkaError

    admin = KafkaAdminClient(bootstrap_servers=services.kafka.bootstrap.split(","))
    group: dict[str, Any] = {}
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            workers.check_alive()
            try:
                group = admin.describe_groups([GROUP])[GROUP]
            except KafkaError as exc:  # the offsets topic is still being created
                group = {"error": repr(exc)}
                time.sleep(1)
                continue
            # one topic of 3 partitions: a stable group of 2 gives each member 1 or 2
            if group.get("group_state") == "Stable" and len(group["members"]) == n:
                return
            time.sleep(1)
        pytest.fail(f"the group never had {n} members: {group}")
    finally:
        admin.close()


def results_for(
    services: ScaleServices, sids: set[str], group: str, timeout: float = 600
) -> dict[str, list[str]]:
    """Every status announced on harmonize.results for ``sids``, until each has one."""
    bus = open_bus(services.events_url)
    got: dict[str, list[str]] = {}
    deadline = time.monotonic() + timeout
    try:
        while set(got) < sids and time.monotonic() < deadline:
            for message in bus.consume(RESULTS, group=group, timeout_s=2, max_messages=100):
                data = parse_envelope(message.value).data
                if data["submission_id"] in sids:
                    got.setdefault(data["submission_id"], []).append(data["status"])
        # announcements that arrive late (a re-delivery) count too
        for message in bus.consume(RESULTS, group=group, timeout_s=3, max_messages=100):
            data = parse_envelope(message.value).data
            if data["submission_id"] in sids:
                got.setdefault(data["submission_id"], []).append(data["status"])
    finally:
        bus.close()
    return got


def submitted_events(services: ScaleServices, sids: set[str], group: str) -> Counter[str]:
    """How often each of ``sids`` is on harmonize.submissions (read from the start)."""
    bus = open_bus(services.events_url)
    seen: Counter[str] = Counter()
    try:
        while batch := bus.consume(SUBMISSIONS, group=group, timeout_s=5, max_messages=500):
            seen.update(m.key for m in batch if m.key in sids)
    finally:
        bus.close()
    return seen


def publications(services: ScaleServices, sids: set[str]) -> dict[str, list[int]]:
    """The committed versions of each submission, from the registry's publication ledger."""
    from harmonize.drs.registry import Registry
    from harmonize.warehouse import ledger

    registry = Registry(services.registry_url)
    try:
        with registry.session() as session:
            return {
                sid: [row.version or 0 for row in ledger.versions(session, sid)] for sid in sids
            }
    finally:
        registry.dispose()


def check_published_once(
    services: ScaleServices, sids: set[str], tag: str, timeout: float = 600
) -> None:
    announced = results_for(services, sids, f"check-results-{tag}", timeout)
    assert set(announced) == sids, sorted(sids - set(announced))
    assert all(set(statuses) == {"published"} for statuses in announced.values()), announced
    assert publications(services, sids) == {sid: [1] for sid in sids}
    on_topic = submitted_events(services, sids, f"check-submissions-{tag}")
    assert on_topic == Counter(dict.fromkeys(sids, 1))  # none lost, none duplicated


def test_the_cluster_replicates_every_topic_three_times(scale_services: ScaleServices) -> None:
    from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

    from harmonize.events import DLQ

    names = [SUBMISSIONS, RESULTS, DLQ]
    admin = KafkaAdminClient(bootstrap_servers=scale_services.kafka.bootstrap.split(","))
    try:
        topics = admin.describe_topics(names)
        configs = admin.describe_configs(
            [
                ConfigResource(ConfigResourceType.TOPIC, n, configs=["min.insync.replicas"])
                for n in names
            ]
        )
    finally:
        admin.close()
    assert {t["name"] for t in topics} == set(names)
    for topic in topics:
        assert topic["partitions"]
        for partition in topic["partitions"]:
            assert sorted(partition["replica_nodes"]) == [1, 2, 3], topic
    assert {
        name: entry["min.insync.replicas"]["value"] for name, entry in configs["topic"].items()
    } == dict.fromkeys(names, "2")


def test_two_workers_on_two_hosts_split_a_burst(
    netns_hosts: Hosts,
    scale_services: ScaleServices,
    workers: Workers,
    submissions: Path,
    tmp_path: Path,
) -> None:
    from harmonize.intake import submit

    copies = submission_copies(submissions / "clinic-tabular", tmp_path / "in", "cg", BURST)
    bad = rejected_copy(submissions / "clinic-tabular", tmp_path / "in" / "cg-bad", "cg-bad")
    settings = submitter_settings(scale_services, tmp_path / "submitter")
    bus = open_bus(settings.events)
    try:
        sids = {submit(path, settings, bus=bus).submission_id for path in copies}
        submit(bad, settings, bus=bus)
    finally:
        bus.close()
    assert len(sids) == BURST
    check_published_once(scale_services, sids, "cg")
    workers.check_alive()
    by_host = [set(workers.processed(i)) & sids for i in (1, 2)]
    assert by_host[0] and by_host[1], by_host  # both hosts took part
    assert by_host[0] | by_host[1] == sids
    # each host's disk holds its own runs only, and nothing published: that is all on S3
    for host, processed in zip(netns_hosts.hosts, by_host, strict=True):
        runs = {
            parse_envelope((run / "event.json").read_bytes()).data["submission_id"]
            for run in (host.workspace / "runs").iterdir()
        }
        assert runs & sids == processed
        assert not (host.workspace / "published").exists()
    assert published_on_s3(scale_services) >= sids
    rejected_report_is_on_s3(scale_services, netns_hosts, "cg-bad")


def rejected_report_is_on_s3(services: ScaleServices, hosts: Hosts, sid: str) -> None:
    """The rejected submission's report, where its result event and the registry say, is an
    object in the S3 warehouse that this (another) host reads; it points at the cell."""
    import json

    import boto3

    from harmonize.state.store import StateStore

    (result,) = result_events(services, sid, "check-rejected")
    assert result["status"] == "rejected", result
    key = f"warehouse/reports/{sid}/report.json"
    assert result["report_uri"] == f"s3://{services.bucket}/{key}"
    (row,) = StateStore(services.registry_url).versions(sid)
    assert (row["status"], row["report_path"]) == ("rejected", result["report_uri"])
    s3 = boto3.client("s3", endpoint_url=services.s3_endpoint)
    for host in hosts.hosts:  # the workers' caches are not where it is read from
        shutil.rmtree(host.workspace / "reports" / sid, ignore_errors=True)
    report = json.loads(s3.get_object(Bucket=services.bucket, Key=key)["Body"].read())
    (error,) = [f for f in report["findings"] if f["level"] == "error"]
    where = error["location"]
    assert (where["file"], where["row"], where["column"], where["value"]) == (
        "clinic_export.csv",
        3,
        "gender",
        "mle",
    )
    html = s3.get_object(Bucket=services.bucket, Key=f"warehouse/reports/{sid}/report.html")
    assert b"mle" in html["Body"].read()


def result_events(services: ScaleServices, sid: str, group: str) -> list[dict[str, Any]]:
    """The result events on harmonize.results for ``sid`` (their data), read from the start."""
    bus = open_bus(services.events_url)
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            batch = bus.consume(RESULTS, group=group, timeout_s=5, max_messages=500)
            found += [
                d for m in batch if (d := parse_envelope(m.value).data)["submission_id"] == sid
            ]
            if found and not batch:
                break
    finally:
        bus.close()
    return found


def test_a_host_writes_nowhere_but_its_workspace(netns_hosts: Hosts, tmp_path: Path) -> None:
    """The confinement the workers run in refuses a write outside the host's workspace:
    in the checkout, in /tmp, in the other host's workspace."""
    outside = [
        Path(CONFINE).parent / "confine-probe",
        Path("/tmp") / f"confine-probe-{tmp_path.name}",
        netns_hosts.hosts[1].workspace / "probe",
    ]
    own = netns_hosts.hosts[0].workspace / "probe"
    script = "".join(f'touch "{p}" 2>/dev/null && echo "wrote {p}"; ' for p in outside)
    script += f'touch "{own}" && echo own-ok'
    log = (tmp_path / "probe.log").open("wb")
    probe = netns_hosts.run(
        1, confined(netns_hosts.hosts[0], ["sh", "-c", script]), env={}, log=log
    )
    assert probe.wait(timeout=60) == 0
    log.close()
    assert (tmp_path / "probe.log").read_text().split() == ["own-ok"]
    assert own.is_file() and not any(p.exists() for p in outside)


def test_a_broker_killed_during_a_burst_loses_nothing(
    netns_hosts: Hosts,
    scale_services: ScaleServices,
    workers: Workers,
    submissions: Path,
    tmp_path: Path,
) -> None:
    from harmonize.intake import submit

    copies = submission_copies(submissions / "clinic-tabular", tmp_path / "in", "bl", BURST)
    settings = submitter_settings(scale_services, tmp_path / "submitter")
    submitted: list[str] = []
    failures: list[BaseException] = []
    first, killed = threading.Event(), threading.Event()

    def burst() -> None:
        bus = open_bus(settings.events)
        try:
            for path in copies:
                submitted.append(submit(path, settings, bus=bus).submission_id)
                if len(submitted) == BURST // 3:  # then the rest, once a broker is gone
                    first.set()
                    assert killed.wait(timeout=300)
        except BaseException as exc:  # reported by the assertion below
            failures.append(exc)
        finally:
            first.set()
            bus.close()

    sender = threading.Thread(target=burst)
    sender.start()
    assert first.wait(timeout=600)
    assert not failures, failures
    victim = leader_of_most(scale_services)
    scale_services.kill_broker(victim)  # while the workers process the first third
    killed.set()
    sender.join(timeout=600)
    assert not sender.is_alive()
    assert not failures, failures
    deadline = time.monotonic() + 120  # the controller fences a broker after its session
    while live_brokers(scale_services) != {1, 2, 3} - {victim} and time.monotonic() < deadline:
        time.sleep(1)
    assert live_brokers(scale_services) == {1, 2, 3} - {victim}
    sids = set(submitted)
    assert len(sids) == BURST
    check_published_once(scale_services, sids, "bl")
    workers.check_alive()


def leader_of_most(services: ScaleServices) -> int:
    """The broker leading the most partitions of harmonize.submissions (1..3)."""
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=services.kafka.bootstrap.split(","))
    try:
        (topic,) = admin.describe_topics([SUBMISSIONS])
    finally:
        admin.close()
    leaders = Counter(p["leader_id"] for p in topic["partitions"])
    return int(leaders.most_common(1)[0][0])


def live_brokers(services: ScaleServices) -> set[int]:
    """The ids of the brokers the cluster lists as registered and not fenced."""
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=services.kafka.bootstrap.split(","))
    try:
        brokers = admin.describe_cluster()["brokers"]
        return {b["broker_id"] for b in brokers if not b.get("is_fenced")}
    finally:
        admin.close()


def published_on_s3(services: ScaleServices) -> set[str]:
    """The submissions with a published version 1 of their Phenopackets in the S3 warehouse."""
    import boto3

    s3 = boto3.client("s3", endpoint_url=services.s3_endpoint)
    prefix = "warehouse/published/phenopackets/"
    pages = s3.get_paginator("list_objects_v2").paginate

    def folders(under: str) -> list[str]:
        # one level at a time: a fanned-out submission has 100,000 objects under its v1/,
        # which moto would list a thousand per request
        listed = pages(Bucket=services.bucket, Prefix=under, Delimiter="/")
        return [c["Prefix"] for page in listed for c in page.get("CommonPrefixes", [])]

    found = set()
    for sub in folders(prefix):
        if f"{sub}v1/" in folders(sub):
            found.add(sub[len(prefix) : -1])
    return found
