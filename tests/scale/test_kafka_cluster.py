"""Scale-out with ``harmonize worker``: two hosts (network namespaces) in one consumer group,
sharing only a three-broker Kafka cluster, PostgreSQL and S3 (moto), all by address.

Each host starts with an empty workspace of its own. The tests submit bursts of 20
submissions from this (the services') namespace and check, from the registry's
publication ledger, that each was published exactly once.
"""

from __future__ import annotations

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
        for i in range(1, len(self.hosts.hosts) + 1):
            log = (self.logs / f"worker-{i}.log").open("ab")
            argv = [HARMONIZE, "worker", "-w", str(self.hosts.hosts[i - 1].workspace)]
            argv += [*self.services.worker_args(), "--group", GROUP]
            argv += ["--on-conflict", "keep-observed"]
            self.processes.append(self.hosts.run(i, argv, env={}, log=log))

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
    settings = submitter_settings(scale_services, tmp_path / "submitter")
    bus = open_bus(settings.events)
    try:
        sids = {submit(path, settings, bus=bus).submission_id for path in copies}
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
    found = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=services.bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            sid, version = item["Key"][len(prefix) :].split("/")[:2]
            if version == "v1":
                found.add(sid)
    return found
