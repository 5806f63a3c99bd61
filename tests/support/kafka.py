"""A real Apache Kafka broker (KRaft) for the test session (a pytest plugin).

The broker is started by ``infra/kafka.sh`` (the one place that knows how), once per
session, in a temp directory, on free ports; it is stopped when the session ends.

Fixtures:

- ``kafka_broker``: the running :class:`KafkaBroker` (``.bootstrap``, ``.url``,
  ``.restart()`` keeps the data and the address: for "broker restarted mid-flight" tests).
- ``kafka_url``: ``kafka://127.0.0.1:PORT``, for :func:`harmonize.events.open_bus`.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "infra" / "kafka.sh"


@dataclass
class KafkaBroker:
    """A broker started by ``infra/kafka.sh`` in ``directory``."""

    directory: Path
    bootstrap: str  # 127.0.0.1:PORT

    @property
    def url(self) -> str:
        return f"kafka://{self.bootstrap}"

    def _run(self, *args: str, timeout: float = 300) -> str:
        done = subprocess.run(
            ["bash", str(SCRIPT), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"infra/kafka.sh {' '.join(args)} failed:\n{done.stderr[-4000:]}")
        return done.stdout.strip()

    def restart(self) -> None:
        """Stop the broker and start it again on the same port, keeping its data."""
        address = self._run("restart", str(self.directory)).splitlines()[-1]
        assert address == self.bootstrap, (address, self.bootstrap)

    def stop(self) -> None:
        self._run("stop", str(self.directory), timeout=60)

    def is_running(self) -> bool:
        done = subprocess.run(
            ["bash", str(SCRIPT), "status", str(self.directory)],
            capture_output=True,
            timeout=60,
            check=False,
        )
        return done.returncode == 0


def start_broker(directory: Path) -> KafkaBroker:
    """Start a broker in ``directory`` (formatted on first use) on a free port."""
    done = subprocess.run(
        ["bash", str(SCRIPT), "start", str(directory)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        subprocess.run(
            ["bash", str(SCRIPT), "stop", str(directory)], capture_output=True, check=False
        )
        raise RuntimeError(f"infra/kafka.sh start failed:\n{done.stderr[-4000:]}")
    return KafkaBroker(directory, done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    """One real Kafka broker for the session; stopped at the end, whatever happened."""
    directory = tmp_path_factory.mktemp("kafka")
    broker = start_broker(directory)
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def kafka_url(kafka_broker: KafkaBroker) -> str:
    return kafka_broker.url


@pytest.fixture
def kafka_group() -> str:
    """A consumer group of the test's own (groups share the session's broker)."""
    return f"test-{uuid.uuid4().hex[:12]}"
