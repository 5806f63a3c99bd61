"""``infra/docker-compose.yml`` runs Kafka as ``infra/kafka.sh start DIR --brokers 3`` does.

No Docker engine runs on the test machines, so this parses the file (with the YAML merge
keys Compose resolves) rather than running ``docker compose config``; the broker settings
expected are read from the ``server.properties`` that ``infra/kafka.sh`` writes for a
cluster node (replication factor 3, ``min.insync.replicas`` 2).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "infra" / "docker-compose.yml"
KAFKA_SH = ROOT / "infra" / "kafka.sh"
NODES = ("kafka-1", "kafka-2", "kafka-3")


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def cluster_properties(replicas: int = 3, isr: int = 2) -> dict[str, str]:
    """The properties ``kafka.sh`` writes for a node of a cluster, with its variables filled
    in; those naming a node (ids, addresses, directories) are left out."""
    text = KAFKA_SH.read_text()
    blocks = re.findall(r'cat >>?"\$dir/server\.properties" <<EOF\n(.*?)\nEOF', text, re.S)
    assert len(blocks) == 2, "kafka.sh writes server.properties in two parts"
    values = {"$replicas": str(replicas), "$isr": str(isr)}
    out = {}
    for line in "\n".join(blocks).splitlines():
        if line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        if "$" in value and value not in values:
            continue  # node.id, listeners, log.dirs, ...
        out[key] = values.get(value, value)
    return out


def env_name(key: str) -> str:
    """The apache/kafka image's variable for a broker property."""
    return "KAFKA_" + key.upper().replace(".", "_")


def test_three_kraft_nodes_each_broker_and_controller_in_one_quorum() -> None:
    services = compose()["services"]
    assert "kafka" not in services
    envs = [services[name]["environment"] for name in NODES]
    assert [env["KAFKA_NODE_ID"] for env in envs] == [1, 2, 3]
    assert {env["KAFKA_PROCESS_ROLES"] for env in envs} == {"broker,controller"}
    assert {env["KAFKA_CONTROLLER_QUORUM_VOTERS"] for env in envs} == {
        "1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093"
    }
    assert len({env["CLUSTER_ID"] for env in envs}) == 1
    assert [env["KAFKA_ADVERTISED_LISTENERS"] for env in envs] == [
        f"PLAINTEXT://{name}:9092" for name in NODES
    ]
    assert len({services[name]["volumes"][0].split(":")[0] for name in NODES}) == 3
    assert all(services[name]["healthcheck"]["test"] for name in NODES)


def test_the_brokers_replicate_as_kafka_sh_does() -> None:
    expected = cluster_properties()
    assert expected["default.replication.factor"] == "3"
    assert expected["min.insync.replicas"] == "2"
    assert expected["transaction.state.log.min.isr"] == "2"
    replication = {
        k: v for k, v in expected.items() if "replication" in k or "isr" in k or "insync" in k
    }
    assert len(replication) >= 7, replication
    same: tuple[str, ...] = ("num.partitions", "process.roles", "controller.listener.names")
    same += ("inter.broker.listener.name", "listener.security.protocol.map")
    services = compose()["services"]
    for name in NODES:
        env = services[name]["environment"]
        for key, value in {**replication, **{k: expected[k] for k in same}}.items():
            assert str(env.get(env_name(key))) == value, (name, key)


def test_the_topics_are_made_with_replication_3_and_every_service_names_the_cluster() -> None:
    data = compose()
    services = data["services"]
    command = services["topics"]["command"]
    assert command[4] == "kafka-1:9092,kafka-2:9092,kafka-3:9092"
    flags = {a: command[command.index(a) + 1] for a in command if a.startswith("--")}
    assert flags["--brokers"] == "3"
    assert flags["--replication-factor"] == "3"
    assert flags["--min-insync-replicas"] == "2"
    assert set(services["topics"]["depends_on"]) == set(NODES)
    events = "kafka://kafka-1:9092,kafka-2:9092,kafka-3:9092"
    for name, service in services.items():
        env = service.get("environment") or {}
        if "HARMONIZE_EVENTS_URL" in env:
            assert env["HARMONIZE_EVENTS_URL"] == events, name
        if name.startswith("airflow"):
            assert set(NODES) <= set(service["depends_on"]), name
    assert "HARMONIZE_EVENTS_URL" in services["harmonize"]["environment"]
    assert {f"kafka{i}data" for i in (1, 2, 3)} <= set(data["volumes"])


def test_receive_slots_match_the_celery_slots() -> None:
    """The ingest DAG runs one ``receive`` task per Celery slot at once, as airflow.sh sets it."""
    services = compose()["services"]
    dag_processor = services["airflow-dag-processor"]["environment"]
    worker = services["airflow-worker"]
    slots = worker["deploy"]["replicas"] * int(
        worker["environment"]["AIRFLOW__CELERY__WORKER_CONCURRENCY"]
    )
    assert int(dag_processor["HARMONIZE_RECEIVE_SLOTS"]) == slots
    assert (
        worker["environment"]["HARMONIZE_RECEIVE_SLOTS"] == dag_processor["HARMONIZE_RECEIVE_SLOTS"]
    )
    script = (ROOT / "infra" / "airflow.sh").read_text()
    assert "HARMONIZE_RECEIVE_SLOTS:-$((workers * ${AIRFLOW_CELERY_CONCURRENCY:-2}))" in script
