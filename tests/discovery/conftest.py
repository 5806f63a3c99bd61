"""Beacon fixtures: the official schemas, and the phenopacket-store cohorts published."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from harmonize.pipeline import ingest
from harmonize.settings import Settings
from tests.discovery.kit import COHORTS, BeaconSchemas, client, settings_for, submission


@pytest.fixture(scope="session")
def beacon_schemas() -> BeaconSchemas:
    return BeaconSchemas()


@dataclass
class Published:
    settings: Settings
    client: TestClient
    statuses: dict[str, str]


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory, ontology_cache: Path) -> Published:
    """The five phenopacket-store cohorts, each its own dataset (two of them controlled)."""
    root = tmp_path_factory.mktemp("beacon-store")
    settings = settings_for(root / "workspace", ontology_cache)
    statuses = {}
    for cohort in COHORTS:
        result = ingest(submission(cohort, root / "submissions"), settings)
        statuses[cohort] = result.status
    return Published(settings, client(settings), statuses)
