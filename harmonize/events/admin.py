"""Broker chores for scripts: wait until a Kafka cluster answers, create the topics.

``infra/kafka.sh`` calls ``python -m harmonize.events.admin wait|topics BOOTSTRAP``; on a
three-broker cluster with ``--brokers 3 --replication-factor 3 --min-insync-replicas 2``.
"""

from __future__ import annotations

import argparse
import sys
import time

from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError

from harmonize.events.bus import EventBusUnavailable
from harmonize.events.kafka import TOPIC_PARTITIONS, create_topics


def wait_ready(bootstrap: list[str], *, timeout_s: float = 60.0, brokers: int = 1) -> list[str]:
    """Block until the cluster answers with at least ``brokers`` brokers registered; the
    topics it lists."""
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=bootstrap,
                client_id="harmonize-ready",
                request_timeout_ms=5_000,
                reconnect_backoff_max_ms=500,
            )
        except KafkaError as exc:
            last = exc
            time.sleep(0.5)
            continue
        try:
            registered = len(admin.describe_cluster()["brokers"])
            if registered >= brokers:
                return sorted(admin.list_topics())
            last = RuntimeError(f"{registered} of {brokers} brokers registered")
            time.sleep(0.5)
        except KafkaError as exc:
            last = exc
            time.sleep(0.5)
        finally:
            admin.close()
    raise EventBusUnavailable(
        f"Kafka at {','.join(bootstrap)} not ready after {timeout_s}s: {last!r}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harmonize.events.admin")
    parser.add_argument("command", choices=["wait", "topics"])
    parser.add_argument("bootstrap", help="host:port[,host:port]")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--brokers", type=int, default=1, help="wait for this many brokers")
    parser.add_argument("--replication-factor", type=int, default=1)
    parser.add_argument("--min-insync-replicas", type=int, default=None)
    args = parser.parse_args(argv)
    servers = [s for s in args.bootstrap.split(",") if s]
    try:
        wait_ready(servers, timeout_s=args.timeout, brokers=args.brokers)
        if args.command == "topics":
            created = create_topics(
                servers,
                TOPIC_PARTITIONS,
                replication_factor=args.replication_factor,
                min_insync_replicas=args.min_insync_replicas,
            )
            for name, parts in TOPIC_PARTITIONS.items():
                state = "created" if name in created else "exists"
                print(f"{name}\t{parts} partitions\t{state}")
    except EventBusUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
