"""Disease filters beyond the exact code: ICD-10 chapters, blocks and categories find their
subcodes; ORPHA and MONDO, whose hierarchies no pinned release gives, refuse descendants.

The independent count reads the published Phenopacket JSON files of a tabular cohort coded
in ICD-10, and walks the pinned WHO XML (``ontologies/icd10-who-2019.xml.gz``) with
ElementTree here, not through Harmonize's code list. Blocks are also checked by their code
range ("E10-E14" holds E10 to E14), which needs no file at all.
"""

from __future__ import annotations

import gzip
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from harmonize.pipeline import ingest
from tests.discovery.kit import API, ROOT, bearer, client, settings_for

DATASET = "cohort-demo"


def _who_ancestors() -> dict[str, set[str]]:
    """Every ICD-10 item's name -> itself and the names of the items it is nested in."""
    root = ET.fromstring(gzip.decompress((ROOT / "ontologies/icd10-who-2019.xml.gz").read_bytes()))
    found: dict[str, set[str]] = {}
    stack: list[tuple[ET.Element, list[str]]] = [(item, []) for item in root.findall("item")]
    while stack:
        item, above = stack.pop()
        name = (item.findtext("name") or "").strip()
        found[name] = {name, *above}
        stack.extend((child, [*above, name]) for child in item.findall("item"))
    return found


@pytest.fixture(scope="module")
def cohort(
    tmp_path_factory: pytest.TempPathFactory, submissions: Path, ontology_cache: Path
) -> tuple[Any, list[set[str]]]:
    settings = settings_for(tmp_path_factory.mktemp("icd10") / "workspace", ontology_cache)
    result = ingest(submissions / "cohort-tabular", settings)
    assert result.status == "published", result.message
    people = []
    for path in (settings.workspace / "published" / "phenopackets").rglob("*.json"):
        doc = json.loads(path.read_text())
        people.append(
            {
                d["term"]["id"].removeprefix("ICD10:")
                for d in doc.get("diseases", [])
                if not d.get("excluded") and d["term"]["id"].startswith("ICD10:")
            }
        )
    return client(settings), people


def _count(beacon: Any, filters: list[dict[str, Any]]) -> Any:
    return beacon.post(
        f"{API}/individuals",
        json={"query": {"filters": filters, "requestedGranularity": "count"}},
        headers=bearer(DATASET),
    )


def test_icd10_groups_find_their_subcodes(
    cohort: tuple[Any, list[set[str]]], beacon_schemas: Any
) -> None:
    beacon, people = cohort
    who = _who_ancestors()
    coded = set().union(*people)
    assert {"E11", "E11.9", "I10", "G30.9"} <= coded, coded
    # chapter IV (endocrine), IX (circulatory), VI (nervous); blocks; categories; a leaf
    queries = ["IV", "IX", "VI", "E10-E14", "G30-G32", "I10-I15", "E11", "G30", "E11.9", "I10"]
    nonzero = 0
    for code in queries:
        expected = sum(1 for p in people if any(code in who[c] for c in p))
        answer = _count(beacon, [{"id": f"ICD10:{code}"}]).json()
        beacon_schemas.response(answer)
        assert answer["responseSummary"]["numTotalResults"] == expected, code
        nonzero += expected > 0
    assert nonzero >= 8
    # a block by its range alone: E10-E14 holds the categories E10 to E14
    in_range = sum(1 for p in people if any("E10" <= c[:3] <= "E14" for c in p))
    assert (
        _count(beacon, [{"id": "ICD10:E10-E14"}]).json()["responseSummary"]["numTotalResults"]
        == in_range
    )
    # the exact category only: E11 but not E11.9
    exact = sum(1 for p in people if "E11" in p)
    answer = _count(beacon, [{"id": "ICD10:E11", "includeDescendantTerms": False}]).json()
    assert answer["responseSummary"]["numTotalResults"] == exact
    assert exact < sum(1 for p in people if any(c.startswith("E11") for c in p))


def test_unknown_icd10_groups_are_refused(cohort: tuple[Any, list[set[str]]]) -> None:
    beacon, _ = cohort
    for bad in ("ICD10:E10-E99", "ICD10:XXX"):
        answer = _count(beacon, [{"id": bad}])
        assert answer.status_code == 400, bad
        assert bad in answer.json()["error"]["errorMessage"]


@pytest.mark.parametrize("term", ["MONDO:0005015", "ORPHA:558"])
def test_orpha_and_mondo_refuse_descendants_they_cannot_find(
    cohort: tuple[Any, list[set[str]]], beacon_schemas: Any, term: str
) -> None:
    beacon, _ = cohort
    for answer in (
        _count(beacon, [{"id": term}]),
        beacon.get(f"{API}/individuals", params={"filters": term}),
    ):
        assert answer.status_code == 400
        body = answer.json()
        beacon_schemas.response(body)
        message = body["error"]["errorMessage"]
        assert term in message and "no " + term.split(":")[0] + " release is pinned" in message
    exact = _count(beacon, [{"id": term, "includeDescendantTerms": False}])
    assert exact.status_code == 200
    assert exact.json()["responseSummary"]["numTotalResults"] == 0
