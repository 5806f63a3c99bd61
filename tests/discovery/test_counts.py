"""Beacon counts equal counts made independently from the published Phenopacket JSON files.

The independent count reads every current Phenopacket (``published/phenopackets/<sid>/v<N>/``,
the newest version of each submission), and expands a parent term with pronto's own reading
of the pinned ``hp.obo`` (``Term.subclasses()``), not Harmonize's compiled index. An
excluded feature never counts. Every answer is validated against the official schema.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pronto
import pytest

from harmonize.discovery.beacon.config import DatasetPolicy
from harmonize.discovery.beacon.privacy import protect
from tests.discovery.kit import API, COHORTS, ROOT, bearer

ALL = tuple(dataset for dataset, _, _ in COHORTS.values())
PARENTS = [
    "HP:0000118",  # Phenotypic abnormality (the root of features)
    "HP:0000707",  # Abnormality of the nervous system
    "HP:0001250",  # Seizure
    "HP:0012759",  # Neurodevelopmental abnormality
    "HP:0001263",  # Global developmental delay
    "HP:0001626",  # Abnormality of the cardiovascular system
    "HP:0000478",  # Abnormality of the eye
    "HP:0001507",  # Growth abnormality
    "HP:0000152",  # Abnormality of head or neck
    "HP:0001939",  # Abnormality of metabolism/homeostasis
    "HP:0002715",  # Abnormality of the immune system
    "HP:0000818",  # Abnormality of the endocrine system
    "HP:0011458",  # Abdominal symptom
]


@dataclass
class Person:
    dataset: str
    features: set[str]  # observed (not excluded)
    excluded: set[str]
    diseases: set[str]
    age: str | None


def _current(workspace: Path) -> list[Path]:
    files = []
    for submission in sorted((workspace / "published" / "phenopackets").iterdir()):
        versions = sorted(submission.glob("v*"), key=lambda p: int(p.name[1:]))
        if versions:
            files.extend(sorted(versions[-1].glob("*.json")))
    return files


def people(workspace: Path) -> list[Person]:
    dataset_of = {f"store-{cohort.lower()}": d for cohort, (d, _, _) in COHORTS.items()}
    found = []
    for path in _current(workspace):
        doc = json.loads(path.read_text())
        features = doc.get("phenotypicFeatures", [])
        age = doc.get("subject", {}).get("timeAtLastEncounter", {}).get("age", {})
        found.append(
            Person(
                dataset=dataset_of[path.parent.parent.name],
                features={f["type"]["id"] for f in features if not f.get("excluded")},
                excluded={f["type"]["id"] for f in features if f.get("excluded")},
                diseases={
                    d["term"]["id"] for d in doc.get("diseases", []) if not d.get("excluded")
                },
                age=age.get("iso8601duration"),
            )
        )
    return found


@pytest.fixture(scope="module")
def hp() -> pronto.Ontology:
    return pronto.Ontology(str(ROOT / "ontologies" / "hp-2025-01-16.obo"))


@pytest.fixture(scope="module")
def truth(store: Any) -> list[Person]:
    assert set(store.statuses.values()) == {"published"}, store.statuses
    return people(store.settings.workspace)


def _below(hp: pronto.Ontology, term: str) -> set[str]:
    return {t.id for t in hp[term].subclasses()}


def _terms(truth: list[Person]) -> tuple[list[str], list[str]]:
    """Leaves (the most frequent terms, and the most often excluded) and diseases."""
    observed = Counter(t for p in truth for t in p.features)
    excluded = Counter(t for p in truth for t in p.excluded)
    leaves = [t for t, _ in observed.most_common(6)] + [t for t, _ in excluded.most_common(3)]
    diseases = sorted({d for p in truth for d in p.diseases})
    return list(dict.fromkeys(leaves)), diseases


def test_hpo_and_disease_counts_equal_an_independent_count(
    store: Any, truth: list[Person], hp: pronto.Ontology, beacon_schemas: Any
) -> None:
    leaves, diseases = _terms(truth)
    terms = PARENTS + leaves + diseases
    assert len(terms) >= 20 and len(diseases) >= 4
    grant = bearer(*ALL)
    nonzero = 0
    for term in terms:
        if term.startswith("HP:"):
            below = _below(hp, term)
            by_dataset = Counter(p.dataset for p in truth if p.features & below)
        else:
            by_dataset = Counter(p.dataset for p in truth if term in p.diseases)
        expected = sum(by_dataset.values())
        nonzero += expected > 0
        answer = store.client.get(
            f"{API}/individuals",
            params={"filters": term, "requestedGranularity": "count"},
            headers=grant,
        ).json()
        beacon_schemas.response(answer)
        assert answer["responseSummary"]["numTotalResults"] == expected, term
        # anonymous: each dataset's count is protected, then summed
        anonymous = store.client.get(
            f"{API}/individuals", params={"filters": term, "requestedGranularity": "count"}
        ).json()
        beacon_schemas.response(anonymous)
        shown = sum(protect(n, DatasetPolicy()).count for n in by_dataset.values())
        assert anonymous["responseSummary"]["numTotalResults"] == shown, term
    assert nonzero >= 18


def test_without_descendants_only_the_exact_term_counts(
    store: Any, truth: list[Person], beacon_schemas: Any
) -> None:
    body = {
        "query": {
            "filters": [{"id": "HP:0001250", "includeDescendantTerms": False}],
            "requestedGranularity": "count",
        }
    }
    answer = store.client.post(f"{API}/individuals", json=body, headers=bearer(*ALL)).json()
    beacon_schemas.response(answer)
    exact = sum("HP:0001250" in p.features for p in truth)
    assert answer["responseSummary"]["numTotalResults"] == exact


def test_an_excluded_feature_never_matches(store: Any, truth: list[Person]) -> None:
    excluded = Counter(t for p in truth for t in p.excluded)
    term, _ = excluded.most_common(1)[0]
    only_excluded = [p for p in truth if term in p.excluded and term not in p.features]
    assert only_excluded
    body = {
        "query": {
            "filters": [{"id": term, "includeDescendantTerms": False}],
            "requestedGranularity": "count",
        }
    }
    answer = store.client.post(f"{API}/individuals", json=body, headers=bearer(*ALL)).json()
    assert answer["responseSummary"]["numTotalResults"] == sum(term in p.features for p in truth)


def _days(duration: str) -> float:
    factors = {"Y": 365.25, "M": 30.4375, "W": 7, "D": 1}
    found = re.findall(r"(\d+)([YMWD])", duration.split("T")[0])
    return sum(int(n) * factors[unit] for n, unit in found)


def test_filters_are_anded_and_ages_compare_as_durations(
    store: Any, truth: list[Person], hp: pronto.Ontology, beacon_schemas: Any
) -> None:
    seizure = _below(hp, "HP:0001250")
    expected = sum(
        1 for p in truth if p.features & seizure and p.age and _days(p.age) >= _days("P5Y")
    )
    grant = bearer(*ALL)
    answer = store.client.get(
        f"{API}/individuals",
        params={"filters": "HP:0001250,age:>=P5Y", "requestedGranularity": "count"},
        headers=grant,
    ).json()
    beacon_schemas.response(answer)
    assert answer["responseSummary"]["numTotalResults"] == expected
    # P60M is P5Y: compared as durations, not as text
    body = {
        "query": {
            "filters": [{"id": "HP:0001250"}, {"id": "age", "operator": ">=", "value": "P60M"}],
            "requestedGranularity": "count",
        }
    }
    posted = store.client.post(f"{API}/individuals", json=body, headers=grant).json()
    assert posted["responseSummary"]["numTotalResults"] == expected
    younger = store.client.get(
        f"{API}/individuals",
        params={"filters": "HP:0001250,age:<P5Y", "requestedGranularity": "count"},
        headers=grant,
    ).json()
    with_age = sum(1 for p in truth if p.features & seizure and p.age)
    assert younger["responseSummary"]["numTotalResults"] == with_age - expected
