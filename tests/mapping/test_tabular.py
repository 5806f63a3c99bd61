"""The ``tabular`` profile end to end: a CSV and a mapping YAML through ``ingest``."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harmonize.drs.registry import Registry
from harmonize.mapping.profiles.phenopacket import parse_errors
from harmonize.ontology import Ontologies
from harmonize.settings import Settings

from .conftest import SUBMISSIONS, Outcome, new_workspace, run_ingest

CLINIC = SUBMISSIONS / "clinic-tabular"
SEIZURE = "HP:0001250"
MACROCEPHALY = "HP:0000256"
HYPOTONIA = "HP:0001252"


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory, ontologies: Ontologies) -> Outcome:
    """The sample clinic export, ingested once, with Great Expectations on."""
    workspace = new_workspace(tmp_path_factory.mktemp("clinic"), ontologies)
    return run_ingest(CLINIC, Settings(workspace=workspace, data_docs=False))


def by_pid(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(row["phenopacket_id"], []).append(row)
    return out


def mapping_of(outcome: Outcome, raw: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [m for m in outcome.report["mappings"] if m["raw"] == raw]
    assert len(found) == 1, f"{raw!r} in {outcome.report['mappings']}"
    return found[0]


# -- the sample submission -------------------------------------------------------------


def test_clinic_sample_is_published_with_great_expectations(clinic: Outcome) -> None:
    assert clinic.result.status == "published", clinic.report["findings"]
    assert clinic.sid == "clinic-2026-11"
    assert clinic.report["status"] == "published"
    assert clinic.result.findings["error"] == 0
    assert "gx:raw/tabular" in clinic.report["validators"]
    assert "gx:harmonized/phenotypic_features" in clinic.report["validators"]
    registered = Registry(clinic.settings.registry).objects_for_submission(clinic.sid)
    assert registered
    assert {o.name for o in registered} >= {"clinic_CL-001.json", "clinic_export.csv"}
    assert "mapping/mapping.yaml" in {o.name for o in registered}  # lineage: the mapping too


def test_clinic_individuals(clinic: Outcome) -> None:
    rows = {r["subject_id"]: r for r in clinic.rows("individuals")}
    assert len(rows) == 6
    assert clinic.result.counts["individuals"] == 6
    assert {k: r["sex"] for k, r in rows.items()} == {
        "CL-001": "FEMALE",
        "CL-002": "MALE",
        "CL-003": "MALE",
        "CL-004": "FEMALE",
        "CL-005": "MALE",
        "CL-006": "FEMALE",
    }
    assert {k: r["age_at_last_encounter"] for k, r in rows.items()} == {
        "CL-001": "P7Y",
        "CL-002": "P12Y",
        "CL-003": "P4Y6M",  # 4.5 years
        "CL-004": "P15Y",
        "CL-005": "P9Y",
        "CL-006": "P6Y",
    }
    assert {k for k, r in rows.items() if r["vital_status"] == "DECEASED"} == {"CL-005"}
    assert {r["vital_status"] for k, r in rows.items() if k != "CL-005"} == {"ALIVE"}
    assert rows["CL-003"]["phenopacket_id"] == "clinic_CL-003"
    assert rows["CL-003"]["source_file"] == "clinic_export.csv"
    assert rows["CL-003"]["source_row"] == 4  # the header is row 1

    docs = clinic.documents()
    assert len(docs) == 6
    subject = docs["clinic_CL-003"]["subject"]
    assert subject == {
        "id": "CL-003",
        "timeAtLastEncounter": {"age": {"iso8601duration": "P4Y6M"}},
        "vitalStatus": {"status": "ALIVE"},
        "sex": "MALE",
    }
    assert docs["clinic_CL-005"]["subject"]["vitalStatus"] == {"status": "DECEASED"}


def test_clinic_documents_are_valid_phenopackets(clinic: Outcome) -> None:
    for pid, doc in clinic.documents().items():
        assert parse_errors(json.dumps(doc)) is None, pid
        prefixes = {r["namespacePrefix"] for r in doc["metaData"]["resources"]}
        assert {"HP", "OMIM", "HGNC", "GENO"} <= prefixes


def test_list_column_resolves_synonyms_and_case_with_evidence(clinic: Outcome) -> None:
    seizures = mapping_of(clinic, "Seizures")
    assert (seizures["term_id"], seizures["label"]) == (SEIZURE, "Seizure")
    assert (seizures["method"], seizures["score"]) == ("synonym", 0.95)
    hypotonia = mapping_of(clinic, "Muscle hypotonia")
    assert (hypotonia["term_id"], hypotonia["label"]) == (HYPOTONIA, "Hypotonia")
    assert (hypotonia["method"], hypotonia["score"]) == ("synonym", 0.95)
    lower = mapping_of(clinic, "macrocephaly")
    assert (lower["term_id"], lower["method"], lower["score"]) == (MACROCEPHALY, "normalized", 0.9)
    for m in (seizures, hypotonia, lower):
        assert m["file"] == "clinic_export.csv"
        assert m["row"] == 4
        assert m["column"] == "symptoms"
        assert m["release"] == "HP 2025-01-16"
    exact = mapping_of(clinic, "Macrocephaly")
    assert (exact["method"], exact["score"], exact["count"]) == ("label", 1.0, 3)

    # inexact matches are findings too, pointing at the cell
    inexact = {f["location"]["value"]: f for f in clinic.findings("inexact-term-match")}
    assert set(inexact) == {"Seizures", "Muscle hypotonia", "macrocephaly", "Sleep disturbance"}
    assert inexact["macrocephaly"]["level"] == "warning"  # score below 0.95
    assert inexact["Seizures"]["location"]["column"] == "symptoms"

    features = by_pid(clinic.rows("phenotypic_features"))["clinic_CL-003"]
    got = {(f["term_id"], f["raw_value"], f["resolution_method"]) for f in features}
    assert (HYPOTONIA, "Muscle hypotonia", "synonym") in got
    assert (MACROCEPHALY, "macrocephaly", "normalized") in got
    # 'Seizures' in the list repeats the seizures column: the first (the column) is kept
    assert [f["source_column"] for f in features if f["term_id"] == SEIZURE] == ["seizures"]
    assert any(f["location"]["row"] == 4 for f in clinic.findings("duplicate-term", "warning"))
    assert all(f["ontology_release"] == "HP 2025-01-16" for f in features)


def test_not_prefix_makes_an_excluded_feature(clinic: Outcome) -> None:
    features = by_pid(clinic.rows("phenotypic_features"))["clinic_CL-006"]
    macro = [f for f in features if f["term_id"] == MACROCEPHALY]
    assert len(macro) == 1
    assert macro[0]["excluded"] is True
    assert macro[0]["raw_value"] == "NOT Macrocephaly"
    assert macro[0]["term_label"] == "Macrocephaly"
    doc = clinic.documents()["clinic_CL-006"]
    assert {"type": {"id": MACROCEPHALY, "label": "Macrocephaly"}, "excluded": True} in doc[
        "phenotypicFeatures"
    ]


def test_one_term_column_yes_no(clinic: Outcome) -> None:
    features = by_pid(clinic.rows("phenotypic_features"))
    seizure = {
        pid: [f["excluded"] for f in rows if f["source_column"] == "seizures"]
        for pid, rows in features.items()
    }
    assert seizure == {
        "clinic_CL-001": [False],
        "clinic_CL-002": [True],
        "clinic_CL-003": [False],
        "clinic_CL-004": [True],
        "clinic_CL-005": [False],
        "clinic_CL-006": [True],
    }
    row = next(f for f in features["clinic_CL-002"] if f["source_column"] == "seizures")
    assert (row["term_id"], row["term_label"], row["raw_value"]) == (SEIZURE, "Seizure", "no")
    docs = clinic.documents()
    assert {"type": {"id": SEIZURE, "label": "Seizure"}} in docs["clinic_CL-001"][
        "phenotypicFeatures"
    ]
    assert {"type": {"id": SEIZURE, "label": "Seizure"}, "excluded": True} in docs["clinic_CL-002"][
        "phenotypicFeatures"
    ]
    assert clinic.result.counts["phenotypic_features"] == 20


def test_diseases(clinic: Outcome) -> None:
    rows = {r["phenopacket_id"]: r for r in clinic.rows("diseases")}
    assert len(rows) == 6
    assert {r["term_id"] for r in rows.values()} == {"OMIM:615032"}
    assert rows["clinic_CL-001"]["onset_age"] == "P2Y"
    assert rows["clinic_CL-006"]["onset_age"] is None
    disease = clinic.documents()["clinic_CL-001"]["diseases"][0]
    assert disease["term"]["id"] == "OMIM:615032"
    assert disease["onset"] == {"age": {"iso8601duration": "P2Y"}}


def test_measurement(clinic: Outcome) -> None:
    rows = {r["phenopacket_id"]: r for r in clinic.rows("measurements")}
    assert len(rows) == 5  # CL-005 has no value
    assert "clinic_CL-005" not in rows
    hb = rows["clinic_CL-001"]
    assert (hb["assay_id"], hb["value"], hb["unit_id"]) == ("LOINC:718-7", 12.1, "UCUM:g/dL")
    assert hb["assay_label"] == "Hemoglobin [Mass/volume] in Blood"
    assert hb["unit_label"] == "gram per deciliter"
    (measurement,) = clinic.documents()["clinic_CL-001"]["measurements"]
    assert measurement == {
        "assay": {"id": "LOINC:718-7", "label": "Hemoglobin [Mass/volume] in Blood"},
        "value": {
            "quantity": {"unit": {"id": "UCUM:g/dL", "label": "gram per deciliter"}, "value": 12.1}
        },
    }


def test_variants(clinic: Outcome) -> None:
    rows = {r["phenopacket_id"]: r for r in clinic.rows("variants")}
    assert len(rows) == 6
    hgvs = rows["clinic_CL-001"]
    assert hgvs["hgvs"] == "NM_001170629.2:c.2875C>T"
    assert hgvs["hgvs_syntax"] == "hgvs.c"
    assert hgvs["description"] is None
    assert (hgvs["allelic_state_id"], hgvs["allelic_state_label"]) == (
        "GENO:0000135",
        "heterozygous",
    )
    assert (hgvs["gene_id"], hgvs["gene_symbol"]) == ("HGNC:20153", "CHD8")
    free = rows["clinic_CL-005"]
    assert free["hgvs"] is None and free["hgvs_syntax"] is None
    assert free["description"] == "exon 3 deletion"

    docs = clinic.documents()
    [gi] = docs["clinic_CL-001"]["interpretations"][0]["diagnosis"]["genomicInterpretations"]
    vd = gi["variantInterpretation"]["variationDescriptor"]
    assert vd["expressions"] == [{"syntax": "hgvs.c", "value": "NM_001170629.2:c.2875C>T"}]
    assert vd["allelicState"] == {"id": "GENO:0000135", "label": "heterozygous"}
    assert vd["geneContext"] == {"valueId": "HGNC:20153", "symbol": "CHD8"}
    [gi] = docs["clinic_CL-005"]["interpretations"][0]["diagnosis"]["genomicInterpretations"]
    vd = gi["variantInterpretation"]["variationDescriptor"]
    assert "expressions" not in vd
    assert vd["label"] == "exon 3 deletion"
