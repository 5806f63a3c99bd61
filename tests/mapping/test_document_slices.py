"""Phenopackets built a slice of individuals at a time are the whole batch's, byte for byte."""

from __future__ import annotations

import random
from typing import Any

import orjson
import pyarrow as pa
import pytest

from harmonize.mapping import tables
from harmonize.mapping.phenopackets import build_documents, document_slices


def _table(name: str, rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=tables.SCHEMAS[name])


def _batch(rng: random.Random, n: int) -> dict[str, pa.Table]:
    """``n`` individuals (some ids twice), their rows of every table in shuffled order, and
    rows of individuals the batch does not hold."""
    ids = [f"pp-{i}" for i in range(n)]
    individuals = [
        {
            "phenopacket_id": pid,
            "subject_id": f"s-{pid}",
            "sex": rng.choice(["MALE", "FEMALE", None]),
            "consent": rng.choice([None, ["DUO:0000042"]]),
        }
        for pid in ids
    ]
    for i in rng.sample(range(n), n // 10):  # a repeated id: its first row makes the document
        individuals.insert(rng.randrange(i + 1, n + 1), {**individuals[i], "sex": "OTHER_SEX"})
    others = [*ids, "pp-missing"]
    features = [
        {
            "phenopacket_id": rng.choice(others),
            "term_id": f"HP:{rng.randrange(10):07d}",
            "term_label": "a term",
            "excluded": rng.random() < 0.3,
            "onset_age": rng.choice([None, "P1Y", "P3M"]),
        }
        for _ in range(n * 6)
    ]
    diseases = [
        {"phenopacket_id": rng.choice(others), "term_id": f"OMIM:{rng.randrange(3):06d}"}
        for _ in range(n * 2)
    ]
    variants = [
        {
            "phenopacket_id": rng.choice(others),
            "variant_id": f"v{k}",
            "disease_id": f"OMIM:{rng.randrange(3):06d}",
            "gene_id": "HGNC:1",
            "gene_symbol": "G",
            "hgvs": f"NM_1.1:c.{k}A>G",
        }
        for k in range(n * 2)
    ]
    measurements = [
        {"phenopacket_id": rng.choice(others), "assay_id": "LOINC:1-1", "value": float(k)}
        for k in range(n)
    ]
    for rows in (features, diseases, variants, measurements):
        rng.shuffle(rows)
    return {
        "individuals": _table("individuals", individuals),
        "phenotypic_features": _table("phenotypic_features", features),
        "diseases": _table("diseases", diseases),
        "variants": _table("variants", variants),
        "measurements": _table("measurements", measurements),
    }


def _resource(prefix: str) -> dict[str, Any]:
    return {"id": prefix.lower(), "namespacePrefix": prefix}


@pytest.mark.parametrize(("n", "size"), [(50, 7), (300, 64), (120, 1), (40, 40), (41, 40)])
def test_slices_are_the_whole_batch(n: int, size: int) -> None:
    rng = random.Random(n * 1000 + size)
    batch = _batch(rng, n)
    extras = {
        f"pp-{i}": {"medicalActions": [{"x": {"id": "MAXO:1", "label": "m"}}]}
        for i in range(0, n, 5)
    }
    prefixes = {f"pp-{i}": {"NCIT"} for i in range(0, n, 3)}
    build: dict[str, Any] = {
        "created": "2000-01-01T00:00:00Z",
        "created_by": "test",
        "resource": _resource,
        "consent": ["DUO:0000007"],
        "references": lambda codes: [{"id": c} for c in codes],
        "extras": extras,
        "prefixes": prefixes,
    }
    whole = build_documents(batch, **build)
    parts = list(document_slices(batch, size=size, **build))
    assert len(whole) == n  # one per distinct id
    assert all(len(p) <= size for p in parts)
    sliced = [doc for part in parts for doc in part]
    assert [orjson.dumps(d, option=orjson.OPT_INDENT_2) for d in sliced] == [
        orjson.dumps(d, option=orjson.OPT_INDENT_2) for d in whole
    ]
    # the repeated ids' later rows (sex OTHER_SEX) made no document
    assert all(d["subject"].get("sex") != "OTHER_SEX" for d in sliced)
