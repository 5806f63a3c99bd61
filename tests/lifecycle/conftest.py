"""Lifecycle fixtures: the same workspace on SQLite + local disk, or PostgreSQL + S3 (moto)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harmonize.settings import Settings


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path, ontology_cache: Path) -> Settings:
    """Settings of an empty workspace: ``local`` (SQLite, local disk) or ``s3``
    (PostgreSQL, a warehouse and landing store in a moto S3 bucket)."""
    values: dict = {
        "workspace": tmp_path / "ws",
        "ontology_cache": ontology_cache,
        "run_great_expectations": False,
        "data_docs": False,
    }
    if request.param == "s3":
        endpoint = request.getfixturevalue("moto_endpoint")
        bucket = request.getfixturevalue("warehouse_bucket")
        values.update(
            registry_url=request.getfixturevalue("fresh_postgres_url"),
            warehouse_url=f"s3://{bucket}/warehouse",
            landing_url=f"s3://{bucket}/landing",
            s3_endpoint_url=endpoint,
        )
    return Settings(**values)


def settings_json(settings: Settings) -> str:
    """Settings for a child process, as JSON."""
    return json.dumps(settings.model_dump(mode="json"))
