"""The embedded event log: offsets, commits, redelivery, concurrent processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import orjson
import pytest

from harmonize.events import LocalEventLog, open_bus
from harmonize.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_open_bus_picks_the_local_log(tmp_path: Path) -> None:
    assert isinstance(open_bus(str(tmp_path / "a")), LocalEventLog)
    bus = open_bus((tmp_path / "b").as_uri())
    assert isinstance(bus, LocalEventLog) and bus.root == tmp_path / "b"
    settings = Settings(workspace=tmp_path / "ws")
    assert Path(settings.events) == tmp_path / "ws" / "events"


def test_offsets_keys_headers_and_binary_values(tmp_path: Path) -> None:
    log = LocalEventLog(tmp_path)
    log.publish("t", b"one", key="a", headers={"h": "1"})
    log.publish("t", b"\xff\x00binary", key=None)
    log.publish("other", b"x")
    got = log.consume("t", group="g", timeout_s=0, max_messages=10)
    assert [(m.offset, m.key, m.value, m.headers) for m in got] == [
        (0, "a", b"one", {"h": "1"}),
        (1, None, b"\xff\x00binary", {}),
    ]
    assert all(m.topic == "t" and m.partition == 0 for m in got)
    assert log.end_offset("t") == 2 and log.end_offset("other") == 1


def test_position_advances_but_only_commit_persists(tmp_path: Path) -> None:
    log = LocalEventLog(tmp_path)
    for i in range(5):
        log.publish("t", f"m{i}".encode())
    first = log.consume("t", group="g", timeout_s=0, max_messages=2)
    second = log.consume("t", group="g", timeout_s=0, max_messages=2)
    assert [m.value for m in first + second] == [b"m0", b"m1", b"m2", b"m3"]
    log.commit("g", first)
    assert log.committed("t", "g") == 2
    log.close()  # "crash": m2, m3 were handed out but never committed
    again = LocalEventLog(tmp_path)
    redelivered = again.consume("t", group="g", timeout_s=0, max_messages=10)
    assert [m.offset for m in redelivered] == [2, 3, 4]
    # another group has its own position
    assert len(again.consume("t", group="other", timeout_s=0, max_messages=10)) == 5


def test_consume_waits_for_new_messages(tmp_path: Path) -> None:
    log = LocalEventLog(tmp_path)
    assert log.consume("t", group="g", timeout_s=0.2, max_messages=1) == []
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from harmonize.events import LocalEventLog;"
            "time.sleep(0.3); LocalEventLog(Path(sys.argv[1])).publish('t', b'late')",
            str(tmp_path),
        ],
        cwd=ROOT,
    )
    try:
        started = time.monotonic()
        got = log.consume("t", group="g", timeout_s=30, max_messages=1)
        assert [m.value for m in got] == [b"late"]
        assert time.monotonic() - started < 25
    finally:
        writer.wait(timeout=30)


def test_one_member_per_group_until_it_leaves(tmp_path: Path) -> None:
    log_a, log_b = LocalEventLog(tmp_path), LocalEventLog(tmp_path)
    log_a.publish("t", b"m0")
    assert len(log_a.consume("t", group="g", timeout_s=0, max_messages=5)) == 1
    assert log_b.consume("t", group="g", timeout_s=0.2, max_messages=5) == []
    log_a.close()
    assert [m.value for m in log_b.consume("t", group="g", timeout_s=0, max_messages=5)] == [b"m0"]


PRODUCER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from harmonize.events import LocalEventLog
    log = LocalEventLog(Path(sys.argv[1]))
    for i in range(int(sys.argv[3])):
        log.publish("t", f"{sys.argv[2]}-{i}".encode(), key=sys.argv[2])
    """
)


@pytest.mark.slow
def test_concurrent_producer_processes_never_interleave(tmp_path: Path) -> None:
    n, procs = 100, 4
    workers = [
        subprocess.Popen([sys.executable, "-c", PRODUCER, str(tmp_path), f"p{w}", str(n)], cwd=ROOT)
        for w in range(procs)
    ]
    assert [w.wait(timeout=120) for w in workers] == [0] * procs
    lines = (tmp_path / "t.jsonl").read_bytes().splitlines()
    records = [orjson.loads(line) for line in lines]
    assert [r["offset"] for r in records] == list(range(n * procs))
    for w in range(procs):  # each producer's messages in its own order
        mine = [r["value"] for r in records if r["key"] == f"p{w}"]
        assert mine == [f"p{w}-{i}" for i in range(n)]


CONSUMER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from harmonize.events import LocalEventLog
    log = LocalEventLog(Path(sys.argv[1]))
    got = log.consume("t", group="g", timeout_s=5, max_messages=3)
    log.commit("g", got[:1])  # processed only the first one
    print("ready", flush=True)
    time.sleep(60)  # killed here, holding the group
    """
)


def test_killed_consumer_process_releases_the_group_and_redelivers(tmp_path: Path) -> None:
    log = LocalEventLog(tmp_path)
    for i in range(3):
        log.publish("t", f"m{i}".encode())
    child = subprocess.Popen(
        [sys.executable, "-c", CONSUMER, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == b"ready"
        assert log.consume("t", group="g", timeout_s=0.2, max_messages=5) == []  # held
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        got = log.consume("t", group="g", timeout_s=5, max_messages=5)
        assert [m.value for m in got] == [b"m1", b"m2"]
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_a_torn_last_line_is_cut_before_the_next_append(tmp_path: Path) -> None:
    log = LocalEventLog(tmp_path)
    log.publish("t", b"ok")
    with (tmp_path / "t.jsonl").open("ab") as fh:
        fh.write(b'{"offset": 1, "value": "half')  # a writer died mid-line
    assert log.end_offset("t") == 1
    assert [m.value for m in log.consume("t", group="g", timeout_s=0, max_messages=5)] == [b"ok"]
    log.publish("t", b"next")
    assert [m.offset for m in log.consume("t", group="g", timeout_s=0, max_messages=5)] == [1]


@pytest.mark.parametrize("name", ["../x", "a/b", "", ".."])
def test_topic_and_group_names_cannot_escape(tmp_path: Path, name: str) -> None:
    from harmonize.errors import ConfigurationError

    log = LocalEventLog(tmp_path)
    with pytest.raises(ConfigurationError):
        log.publish(name, b"x")
    with pytest.raises(ConfigurationError):
        log.consume("t", group=name, timeout_s=0, max_messages=1)


def test_unsupported_bus_urls_are_configuration_errors() -> None:
    from harmonize.errors import ConfigurationError

    for url in ("amqp://broker:5672", "kafka://"):
        with pytest.raises(ConfigurationError):
            open_bus(url)
