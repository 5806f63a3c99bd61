"""Measurement, gene and onset filters on a tabular clinic export (LOINC haemoglobin values)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from harmonize.pipeline import ingest
from tests.discovery.kit import API, bearer, client, settings_for

HEMOGLOBIN = "LOINC:718-7"


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory, submissions: Path, ontology_cache: Path):
    settings = settings_for(tmp_path_factory.mktemp("clinic") / "workspace", ontology_cache)
    result = ingest(submissions / "clinic-tabular", settings)
    assert result.status == "published", result.message
    rows = list(csv.DictReader((submissions / "clinic-tabular" / "clinic_export.csv").open()))
    return client(settings), rows, settings


def _count(beacon: Any, body: dict[str, Any]) -> int:
    answer = beacon.post(
        f"{API}/individuals",
        json={"query": {**body, "requestedGranularity": "count"}},
        headers=bearer("clinic-chd8"),
    ).json()
    return int(answer["responseSummary"]["numTotalResults"])


@pytest.mark.parametrize(
    ("operator", "value"),
    [(">", "12.4"), (">=", "12.4"), ("<", "12"), ("<=", "12.1"), ("=", "12.9"), ("!", "12.9")],
)
def test_measurement_values_compare_with_every_operator(
    clinic: Any, operator: str, value: str
) -> None:
    beacon, rows, _ = clinic
    compare = {
        ">": float.__gt__,
        ">=": float.__ge__,
        "<": float.__lt__,
        "<=": float.__le__,
        "=": float.__eq__,
        "!": float.__ne__,
    }[operator]
    expected = sum(
        1
        for r in rows
        if r["hemoglobin_g_dl"] and compare(float(r["hemoglobin_g_dl"]), float(value))
    )
    body = {"filters": [{"id": HEMOGLOBIN, "operator": operator, "value": value}]}
    assert _count(beacon, body) == expected
    got = beacon.get(
        f"{API}/individuals",
        params={"filters": f"{HEMOGLOBIN}:{operator}{value}", "requestedGranularity": "count"},
        headers=bearer("clinic-chd8"),
    ).json()
    assert got["responseSummary"]["numTotalResults"] == expected


def test_gene_and_onset_filters(clinic: Any) -> None:
    beacon, rows, settings = clinic
    assert _count(beacon, {"filters": [{"id": "HGNC:20153"}]}) == len(rows)
    assert _count(beacon, {"filters": [{"id": "HGNC:11111"}]}) == 0
    # age at onset of a feature or a disease, as published in the Phenopackets
    onsets = []
    for path in (settings.workspace / "published" / "phenopackets").rglob("*.json"):
        doc = json.loads(path.read_text())
        onsets.append(
            any(
                f.get("onset", {}).get("age", {}).get("iso8601duration") in ("P3Y", "P4Y")
                for f in doc.get("phenotypicFeatures", []) + doc.get("diseases", [])
            )
        )
    assert 0 < sum(onsets) < len(onsets)
    body = {"filters": [{"id": "EFO:0004847", "operator": ">=", "value": "P36M"}]}
    assert _count(beacon, body) == sum(onsets)
    nan = beacon.post(
        f"{API}/individuals",
        json={"query": {"filters": [{"id": HEMOGLOBIN, "operator": ">", "value": "x"}]}},
    )
    assert nan.status_code == 400 and "'x' is not a number" in nan.json()["error"]["errorMessage"]
    bad = beacon.post(
        f"{API}/individuals",
        json={"query": {"filters": [{"id": HEMOGLOBIN, "operator": "~", "value": "1"}]}},
    )
    assert bad.status_code == 400 and "operator '~'" in bad.json()["error"]["errorMessage"]
