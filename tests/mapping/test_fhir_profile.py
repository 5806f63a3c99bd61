"""The ``fhir`` profile: FHIR R4 Bundles (JSON, NDJSON) to Phenopackets, end to end.

The sample submission ``fhir-cohort`` (see its PROVENANCE.md) holds six patients in a
collection Bundle, transaction Bundles on NDJSON lines and loose NDJSON resources. Each
published Phenopacket's sex, diseases and phenotypic features are compared with the
expected Phenopacket content written by hand in ``data/fhir-cohort-expected.json``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harmonize.quality.validate import validate_files
from harmonize.settings import Limits, Settings
from tests.support.pxf import needs_pxf, pxf_errors

from .conftest import SUBMISSIONS, Outcome, run_ingest, write_submission

COHORT = SUBMISSIONS / "fhir-cohort"
EXPECTED = json.loads((Path(__file__).parent / "data" / "fhir-cohort-expected.json").read_text())
HP = "http://purl.obolibrary.org/obo/hp.owl"


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory, ontologies: Any) -> Outcome:
    from .conftest import new_workspace

    workspace = new_workspace(tmp_path_factory.mktemp("fhir"), ontologies)
    settings = Settings(workspace=workspace, data_docs=False)  # Great Expectations on
    return run_ingest(COHORT, settings)


def test_cohort_is_published(cohort: Outcome) -> None:
    assert cohort.result.status == "published", cohort.result.message
    assert cohort.result.counts["individuals"] == 6
    errors = [f for f in cohort.report["findings"] if f["level"] in ("error", "warning")]
    assert errors == []
    # the Encounter is named, not mapped; medical actions are rows of their own tables now
    assert [f["location"]["value"] for f in cohort.findings("resource-not-mapped")] == ["Encounter"]
    assert not cohort.findings("medical-actions-in-documents", "info")
    assert cohort.rows("procedures") and cohort.rows("treatments")


def _annotations(items: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return [{k: item[k] for k in (key, "excluded", "onset") if k in item} for item in items]


@pytest.mark.parametrize("pid", sorted(EXPECTED))
def test_each_individual_matches_its_expected_phenopacket(cohort: Outcome, pid: str) -> None:
    doc = cohort.documents()[pid]
    expected = EXPECTED[pid]
    assert doc["subject"] == expected["subject"]
    assert _annotations(doc.get("diseases", []), "term") == expected["diseases"]
    assert (
        _annotations(doc.get("phenotypicFeatures", []), "type") == (expected["phenotypicFeatures"])
    )


def test_measurements_and_medical_actions(cohort: Outcome) -> None:
    docs = cohort.documents()
    bp = docs["mfs-005"]["measurements"]
    assert [(m["assay"]["id"], m["value"]["quantity"]["value"]) for m in bp] == [
        ("LOINC:8480-6", 118.0),
        ("LOINC:8462-4", 72.0),
    ]
    assert bp[0]["value"]["quantity"]["unit"] == {"id": "UCUM:mm[Hg]", "label": "mmHg"}
    assert bp[0]["timeObserved"] == {"age": {"iso8601duration": "P33Y4M7D"}}
    assert docs["mfs-005"]["medicalActions"] == [
        {
            "procedure": {
                "code": {"id": "SNOMEDCT:40701008", "label": "Echocardiography"},
                "bodySite": {"id": "SNOMEDCT:80891009", "label": "Heart structure"},
                "performed": {"age": {"iso8601duration": "P33Y4M7D"}},
            }
        },
        {"treatment": {"agent": {"id": "RXNORM:52175", "label": "losartan"}}},
    ]
    prefixes = {r["namespacePrefix"] for r in docs["mfs-005"]["metaData"]["resources"]}
    assert {"HP", "OMIM", "LOINC", "UCUM", "SNOMEDCT", "RXNORM"} <= prefixes
    assert docs["cf-004"]["medicalActions"][0]["procedure"]["code"]["id"] == "SNOMEDCT:80146002"


def test_tables_keep_the_record_and_field(cohort: Outcome) -> None:
    features = {r["term_id"]: r for r in cohort.rows("phenotypic_features")}
    bundle = features["HP:0002728"]  # entry 3 of the collection Bundle
    assert (bundle["source_file"], bundle["source_row"], bundle["source_column"]) == (
        "cohort-bundle.json",
        3,
        "Bundle.entry[2].resource.code.coding[0]",
    )
    line = features["HP:0001166"]  # entry 2 of the Bundle on line 2 of the NDJSON
    assert (line["source_file"], line["source_row"], line["source_column"]) == (
        "cohort.ndjson",
        2,
        "Bundle.entry[2].resource.code.coding[0]",
    )
    loose = features["HP:0002133"]  # a loose resource: its own line
    assert (loose["source_row"], loose["source_column"]) == (6, "Condition.code.coding[0]")
    individuals = {r["phenopacket_id"]: r for r in cohort.rows("individuals")}
    assert individuals["dravet-006"]["profile"] == "fhir"
    assert individuals["dravet-006"]["source_row"] == 3


def test_published_phenopackets_pass_validate(cohort: Outcome) -> None:
    report = validate_files([cohort.phenopackets_dir], cohort.settings)
    assert report.stats == {"phenopackets": 6}
    assert [f for f in report.findings if f.level in ("error", "warning")] == []


@needs_pxf
def test_published_phenopackets_pass_the_reference_validator(cohort: Outcome) -> None:
    assert pxf_errors(cohort.phenopackets_dir) == []


# -- bad input -------------------------------------------------------------------------


def _bundle() -> dict[str, Any]:
    return copy.deepcopy(json.loads((COHORT / "cohort-bundle.json").read_text()))


def _ingest(tmp_path: Path, settings: Callable[..., Settings], files: dict[str, str]) -> Outcome:
    root = write_submission(tmp_path / "sub", submission_id="fhir-bad", files=files, profile="fhir")
    return run_ingest(root, settings())


def _rejected(out: Outcome, category: str) -> dict[str, Any]:
    assert out.result.status == "rejected", out.result.message
    assert not (out.settings.published_dir / "phenopackets").exists()
    found = out.findings(category, "error")
    assert found, [f["category"] for f in out.report["findings"]]
    return found[0]


def test_broken_bundle_json(tmp_path: Path, settings: Callable[..., Settings]) -> None:
    text = json.dumps(_bundle(), indent=1).splitlines()
    text[40] = text[40].rstrip(",") + ",,"  # a stray comma on line 41
    out = _ingest(tmp_path, settings, {"bundle.json": "\n".join(text)})
    assert out.result.status == "rejected"
    assert not (out.settings.published_dir / "phenopackets").exists()
    assert "invalid JSON at line 41" in out.result.message
    error = next(f for f in out.report["findings"] if f["level"] == "error")
    assert (error["location"]["file"], error["location"]["row"]) == ("bundle.json", 41)


def test_broken_ndjson_line(tmp_path: Path, settings: Callable[..., Settings]) -> None:
    lines = (COHORT / "cohort.ndjson").read_text().splitlines()
    lines[3] = lines[3][:-5]  # line 4 cut short
    out = _ingest(tmp_path, settings, {"cohort.ndjson": "\n".join(lines) + "\n"})
    assert out.result.status == "rejected"
    error = next(f for f in out.report["findings"] if f["level"] == "error")
    assert (error["location"]["file"], error["location"]["row"]) == ("cohort.ndjson", 4)


def test_resource_that_fhir_resources_refuses(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    bundle = _bundle()
    bundle["entry"][6]["resource"]["valueQuantity"]["value"] = "seven"  # the calcium Observation
    bundle["entry"][1]["resource"]["onsetDateTime"] = "2012-13-01"  # no month 13
    out = _ingest(tmp_path, settings, {"bundle.json": json.dumps(bundle)})
    _rejected(out, "fhir-validation")
    where = {
        (f["location"]["row"], f["location"]["column"], f["location"]["path"])
        for f in out.findings("fhir-validation")
    }
    assert where == {
        (7, "Observation.valueQuantity.value", "Bundle.entry[6].resource.valueQuantity.value"),
        (2, "Condition.onsetDateTime", "Bundle.entry[1].resource.onsetDateTime"),
    }


def test_reference_to_a_missing_patient(tmp_path: Path, settings: Callable[..., Settings]) -> None:
    bundle = _bundle()
    bundle["entry"][3]["resource"]["subject"]["reference"] = "Patient/nobody"
    out = _ingest(tmp_path, settings, {"bundle.json": json.dumps(bundle)})
    error = _rejected(out, "missing-patient")
    loc = error["location"]
    assert (loc["row"], loc["column"], loc["value"]) == (
        4,
        "Condition.subject.reference",
        "Patient/nobody",
    )
    assert "Condition/aps1-001-hp2" in error["message"]


def test_code_from_an_unknown_system(tmp_path: Path, settings: Callable[..., Settings]) -> None:
    bundle = _bundle()
    coding = bundle["entry"][4]["resource"]["code"]["coding"]
    coding.append({"system": "http://hospital.example.org/codes/local", "code": "PAI-1"})
    out = _ingest(tmp_path, settings, {"bundle.json": json.dumps(bundle)})
    error = _rejected(out, "unknown-code-system")
    loc = error["location"]
    assert (loc["file"], loc["row"], loc["column"], loc["value"]) == (
        "bundle.json",
        5,
        "Condition.code.coding[1].system",
        "http://hospital.example.org/codes/local",
    )
    assert "http://purl.obolibrary.org/obo/hp.owl" in error["hint"]


def test_observation_unit_outside_ucum(tmp_path: Path, settings: Callable[..., Settings]) -> None:
    bundle = _bundle()
    bundle["entry"][6]["resource"]["valueQuantity"]["system"] = "http://example.org/units"
    out = _ingest(tmp_path, settings, {"bundle.json": json.dumps(bundle)})
    error = _rejected(out, "unknown-code-system")
    assert error["location"]["column"] == "Observation.valueQuantity.system"


def test_unknown_gender_and_resource_type(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    bundle = _bundle()
    bundle["entry"][0]["resource"]["gender"] = "F"
    bundle["entry"][8]["resource"]["resourceType"] = "Encountr"
    out = _ingest(tmp_path, settings, {"bundle.json": json.dumps(bundle)})
    bad = _rejected(out, "bad-value")
    assert (bad["location"]["row"], bad["location"]["column"]) == (1, "Patient.gender")
    typo = out.findings("fhir-validation", "error")[0]["location"]
    assert (typo["row"], typo["column"], typo["value"]) == (9, "Encountr.resourceType", "Encountr")


def test_bundle_over_the_size_limit(tmp_path: Path, settings: Callable[..., Settings]) -> None:
    root = write_submission(
        tmp_path / "sub",
        submission_id="fhir-big",
        files={"bundle.json": json.dumps(_bundle())},
        profile="fhir",
    )
    out = run_ingest(root, settings(limits=Limits(max_fhir_document_bytes=1000)))
    assert out.result.status == "rejected"
    assert "read whole" in out.result.message
    err = _rejected(out, "LimitExceeded")
    assert err["location"]["file"] == "bundle.json"
    assert "limits.max_fhir_document_bytes" in err["message"]
    assert "HARMONIZE_LIMIT_MAX_FHIR_DOCUMENT_BYTES" in err["hint"]


def test_without_birth_date_dates_stay_timestamps(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    resources = [
        {"resourceType": "Patient", "id": "p1", "gender": "female"},
        {
            "resourceType": "Condition",
            "id": "c1",
            "subject": {"reference": "Patient/p1"},
            "code": {"coding": [{"system": HP, "code": "HP:0001250", "display": "Seizure"}]},
            "onsetDateTime": "2021-05-04",
        },
    ]
    text = "\n".join(json.dumps(r) for r in resources) + "\n"
    out = _ingest(tmp_path, settings, {"loose.ndjson": text})
    assert out.result.status == "published", out.result.message
    feature = out.documents()["p1"]["phenotypicFeatures"][0]
    assert feature["onset"] == {"timestamp": "2021-05-04T00:00:00Z"}
