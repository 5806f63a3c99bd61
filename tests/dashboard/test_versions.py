"""A submission's page lists its published versions and what changed from one to the next."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from harmonize.dashboard.versions import DiffCache, published_versions
from harmonize.drs.registry import Registry
from harmonize.lifecycle.erase import erase
from harmonize.lifecycle.withdraw import withdraw
from harmonize.pipeline import ingest
from harmonize.warehouse import Warehouse

from ..publish.test_versions import corrected
from .conftest import CURATOR, SUBMITTER_A, Env, make_env
from .pipeline_data import pipeline_settings

pytestmark = pytest.mark.integration

SID = "suox-isod"


@pytest.fixture
def two_versions(tmp_path: Path, submissions: Path, ontology_cache: Path) -> Env:
    """SUOX published, then a corrected version 2: one sex changed, the last individual gone."""
    settings = pipeline_settings(tmp_path / "workspace", ontology_cache)
    env = make_env(settings.workspace, pipeline=settings)
    v1 = tmp_path / "v1"
    shutil.copytree(submissions / SID, v1)
    manifest = v1 / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("access: controlled", "access: public"))
    assert ingest(v1, settings).status == "published"
    v2, _, _ = corrected(v1, tmp_path / "v2")
    assert ingest(v2, settings).status == "published"
    return env


def version_rows(html: str) -> dict[int, str]:
    table = html.split('data-testid="published-versions"')[1].split("</table>")[0]
    return {
        int(n): body for n, body in re.findall(r'<tr data-version="(\d+)">(.*?)</tr>', table, re.S)
    }


def cell(row: str, table: str) -> dict[str, int]:
    found = re.search(
        rf'data-table="{table}" data-added="(\d+)" data-removed="(\d+)" data-changed="(\d+)"', row
    )
    assert found, row
    added, removed, changed = map(int, found.groups())
    return {"added": added, "removed": removed, "changed": changed}


def test_versions_with_what_changed(two_versions: Env) -> None:
    env = two_versions
    client = env.client(CURATOR)
    page = client.get(f"/dashboard/submissions/{SID}")
    assert page.status_code == 200, page.text
    rows = version_rows(page.text)
    assert list(rows) == [2, 1]  # newest first
    assert "current" in rows[2] and "superseded by v2" in rows[1]
    assert "first version" in rows[1] and "data-added" not in rows[1]
    assert cell(rows[2], "individuals") == {"added": 0, "removed": 1, "changed": 1}
    features = cell(rows[2], "phenotypic_features")
    assert features["removed"] > 0 and features["added"] == 0
    # each version links its own bundle, and both resolve in DRS (v1 superseded, not gone)
    bundles = re.findall(
        r'href="/ga4gh/drs/v1/objects/([^"]+)" data-testid="version-bundle"', page.text
    )
    assert len(set(bundles)) == 2
    for bundle in bundles:
        assert client.get(f"/ga4gh/drs/v1/objects/{bundle}").status_code == 200
    # the submitter who sent it sees the same; another does not see the submission at all
    assert env.client(SUBMITTER_A).get(f"/dashboard/submissions/{SID}").status_code == 404


def test_pages_cache_and_an_erased_history(two_versions: Env) -> None:
    env = two_versions
    settings = env.pipeline
    registry = Registry(settings.registry)
    warehouse = Warehouse.of(settings)
    cache = DiffCache()
    newest = published_versions(registry, warehouse, SID, size=1, cache=cache)
    assert [v.number for v in newest.versions] == [2] and newest.total == 2
    assert newest.next_offset == 1 and newest.prev_offset is None
    changes = newest.versions[0].changes
    assert changes is not None and changes["individuals"].removed == 1
    oldest = published_versions(registry, warehouse, SID, offset=1, size=1, cache=cache)
    assert [v.number for v in oldest.versions] == [1] and oldest.versions[0].first
    assert oldest.next_offset is None and oldest.prev_offset == 0

    class Unreadable:
        def read(self, *args: Any, **kwargs: Any) -> Any:
            raise AssertionError("a cached diff is not read again")

    again = published_versions(registry, Unreadable(), SID, size=1, cache=cache)  # type: ignore[arg-type]
    assert again.versions[0].changes == changes

    # an erasure expires the history the diff was read from: the page says so, though it
    # showed (and cached) the diff before
    client = env.client(CURATOR)
    before = version_rows(client.get(f"/dashboard/submissions/{SID}").text)
    assert cell(before[2], "individuals")["removed"] == 1
    withdraw(
        settings,
        registry,
        dataset="phenopacket-store",
        subject="Proband 1 from PMID 9050047",
        by="dr.curator",
    )
    erase(settings, registry)
    page = client.get(f"/dashboard/submissions/{SID}")
    rows = version_rows(page.text)
    assert "an erasure expired the history" in rows[2] and "data-added" not in rows[2]
