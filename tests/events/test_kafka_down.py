"""A broker that cannot be reached is a transient failure (a retry may help), never a hang."""

from __future__ import annotations

import socket
import time

import pytest

from harmonize.events import EventBusUnavailable
from harmonize.events.kafka import KafkaBus


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_broker_is_transient() -> None:
    bus = KafkaBus([f"127.0.0.1:{closed_port()}"], connect_timeout_s=1)
    started = time.monotonic()
    try:
        with pytest.raises(EventBusUnavailable) as info:
            bus.publish("harmonize.submissions", b"{}", key="s")
        assert info.value.transient
        with pytest.raises(EventBusUnavailable):
            bus.consume("harmonize.submissions", group="g", timeout_s=1, max_messages=1)
    finally:
        bus.close()
    assert time.monotonic() - started < 20
