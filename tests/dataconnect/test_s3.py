"""Data Connect over a warehouse in an S3 bucket (moto): tables and search read it there."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dataconnect.conftest import API, ISOD, PUBLIC, app_for, bearer, individuals, publish
from tests.dataconnect.spec import Schemas

pytestmark = pytest.mark.integration


def test_tables_and_search_over_a_bucket(
    tmp_path: Path,
    submissions: Path,
    ontology_cache: Path,
    moto_endpoint: str,
    warehouse_bucket: str,
) -> None:
    spec = Schemas()
    published = publish(
        tmp_path,
        submissions,
        ontology_cache,
        warehouse_url=f"s3://{warehouse_bucket}/warehouse",
        s3_endpoint_url=moto_endpoint,
    )
    settings = published.settings
    assert not (settings.workspace / "published" / "tables").exists()  # all in the bucket
    with app_for(settings, page_size=1000) as client:
        rows = client.get(f"{API}/table/{PUBLIC}.individuals/data").json()
        spec.check(rows, "TableData")
        assert {r["phenopacket_id"] for r in rows["data"]} == individuals(settings, PUBLIC)
        query = {
            "query": "SELECT DISTINCT phenopacket_id FROM individuals WHERE dataset = ?",
            "parameters": [ISOD],
        }
        found = client.post(f"{API}/search", json=query, headers=bearer(ISOD)).json()
        spec.check(found, "TableData")
        assert {r["phenopacket_id"] for r in found["data"]} == individuals(settings, ISOD)
