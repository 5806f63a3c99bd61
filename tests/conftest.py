"""Shared fixtures: the repository's paths and sample submissions."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = ROOT / "tests" / "data" / "submissions"


@pytest.fixture(scope="session")
def submissions() -> Path:
    return SUBMISSIONS


@pytest.fixture(scope="session")
def ontology_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One compiled-index cache for the whole session: HPO is compiled once."""
    return tmp_path_factory.mktemp("ontology-cache")


# PostgreSQL for tests: postgres_url (session), fresh_postgres_url, database_url (both back ends)
# Kafka for tests: kafka_broker (session; .restart() keeps data and port), kafka_url, kafka_group
# Airflow for tests: airflow_env (module; api-server, scheduler, dag-processor, triggerer)
pytest_plugins = [
    "tests.support.postgres",
    "tests.support.kafka",
    "tests.support.airflow",
    "tests.support.s3",
    "tests.support.netns",  # scale-out: hosts in network namespaces and what they share
    "tests.support.conformance",  # every published Phenopacket passes the v2 JSON Schema
]
