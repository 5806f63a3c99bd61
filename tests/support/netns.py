"""Scale-out on one machine: "hosts" in network namespaces, and the services they share.

``infra/netns.sh`` makes the hosts (one network namespace each, a veth pair on a private
bridge); the services listen on the bridge's address, never on a path: a three-broker
KRaft Kafka cluster (``infra/kafka.sh --brokers 3 --host``), PostgreSQL
(``infra/postgres.sh --host``) and an S3 server (moto). Each host gets its own empty
workspace directory (with its own ``TMPDIR`` and ``HOME`` inside) and nothing else.

Fixtures (module scope: the tests of one module share the hosts and the services):

- ``netns_hosts``: a :class:`Hosts`; ``.run(i, argv)`` starts a process on host ``i``.
- ``scale_services``: :class:`ScaleServices` (Kafka bootstrap, registry URL, S3 endpoint,
  a bucket), reachable from every host.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pytest

from tests.support.kafka import KafkaBroker
from tests.support.postgres import PostgresServer
from tests.support.s3 import CREDENTIALS, moto_server

ROOT = Path(__file__).resolve().parents[2]
NETNS = ROOT / "infra" / "netns.sh"
KAFKA = ROOT / "infra" / "kafka.sh"


def _sh(*argv: str, timeout: float = 300) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{done.stderr[-4000:]}")
    return done.stdout


@dataclass
class Host:
    """One namespace: its name, its address and its own workspace."""

    namespace: str
    address: str
    workspace: Path

    def env(self) -> dict[str, str]:
        """The environment of a process on this host: nothing pointing at a shared path."""
        tmp, home = self.workspace / "tmp", self.workspace / "home"
        tmp.mkdir(parents=True, exist_ok=True)
        home.mkdir(parents=True, exist_ok=True)
        keep = {k: os.environ[k] for k in ("PATH", "LANG", "LC_ALL") if k in os.environ}
        return {**keep, **CREDENTIALS, "TMPDIR": str(tmp), "HOME": str(home)}


@dataclass
class Hosts:
    """The namespaces made by ``infra/netns.sh up NAME N``."""

    name: str
    services_address: str  # the bridge's address, where shared services listen
    hosts: list[Host] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def run(
        self, index: int, argv: Sequence[str], *, env: dict[str, str], log: IO[bytes]
    ) -> subprocess.Popen[bytes]:
        """Start ``argv`` on host ``index`` (1-based), in its workspace."""
        host = self.hosts[index - 1]
        process = subprocess.Popen(
            ["ip", "netns", "exec", host.namespace, *argv],
            cwd=host.workspace,
            env={**host.env(), **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        return process


@dataclass
class ScaleServices:
    """What the hosts share, by address: Kafka, PostgreSQL and S3."""

    kafka: KafkaBroker  # .directory holds node-1..node-3
    registry_url: str
    s3_endpoint: str
    bucket: str

    @property
    def events_url(self) -> str:
        return self.kafka.url

    def kill_broker(self, node: int) -> None:
        """SIGKILL one Kafka node (no clean shutdown)."""
        _sh("bash", str(KAFKA), "kill", str(self.kafka.directory), str(node))

    def start_broker(self, node: int) -> None:
        _sh("bash", str(KAFKA), "start-node", str(self.kafka.directory), str(node), timeout=300)

    def worker_args(self) -> list[str]:
        """``harmonize worker`` options naming every shared service."""
        return [
            "--events",
            self.events_url,
            "--registry-url",
            self.registry_url,
            "--warehouse",
            f"s3://{self.bucket}/warehouse",
            "--landing",
            f"s3://{self.bucket}/landing",
            "--s3-endpoint-url",
            self.s3_endpoint,
        ]


@pytest.fixture(scope="module")
def netns_hosts() -> Iterator[Hosts]:
    """Two hosts, each with an empty workspace of its own; torn down whatever happens."""
    if os.geteuid() != 0:
        pytest.fail("network namespaces (infra/netns.sh) need root", pytrace=False)
    name = f"hz{uuid.uuid4().hex[:5]}"
    root = Path(tempfile.mkdtemp(prefix=f"harmonize-{name}-"))
    hosts = Hosts(name, "")
    try:
        lines = _sh("bash", str(NETNS), "up", name, "2").split()
        hosts.services_address = lines[-1]
        for i, (namespace, address) in enumerate(zip(lines[:-1:2], lines[1:-1:2], strict=True)):
            workspace = root / f"host{i + 1}"
            workspace.mkdir()
            hosts.hosts.append(Host(namespace, address, workspace))
        yield hosts
    finally:
        for process in hosts.processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)
        subprocess.run(["bash", str(NETNS), "down", name], capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def scale_services(
    netns_hosts: Hosts, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ScaleServices]:
    """A three-broker Kafka cluster, PostgreSQL and moto on the hosts' bridge address."""
    import boto3

    address = netns_hosts.services_address
    kafka_dir = tmp_path_factory.mktemp("kafka3")
    boot = _sh(
        "bash",
        str(KAFKA),
        "start",
        str(kafka_dir),
        "--brokers",
        "3",
        "--host",
        address,
        timeout=600,
    ).splitlines()[-1]
    kafka = KafkaBroker(kafka_dir, boot)
    postgres: PostgresServer | None = None
    saved = {k: os.environ.get(k) for k in CREDENTIALS}
    os.environ.update(CREDENTIALS)
    try:
        postgres = PostgresServer.start_temporary(host=address)
        with moto_server(tmp_path_factory.mktemp("moto") / "moto.log", address) as endpoint:
            bucket = f"scale-{uuid.uuid4().hex[:8]}"
            boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
            yield ScaleServices(kafka, postgres.url, endpoint, bucket)
    finally:
        kafka.stop()
        if postgres is not None:
            postgres.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
