"""FHIR references across the files of one submission: a Condition in one file naming
Patient/x in another resolves; a reference to a Patient in no file is an error at its file,
record and field."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harmonize.settings import Settings
from tests.support import pxf

from .conftest import run_ingest, write_submission

HP = "http://purl.obolibrary.org/obo/hp.owl"


def condition(cid: str, subject: str, code: str, label: str, onset: str) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": cid,
        "code": {"coding": [{"system": HP, "code": code, "display": label}]},
        "subject": {"reference": subject},
        "onsetDateTime": onset,
    }


def patient(pid: str, gender: str, born: str) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": pid, "gender": gender, "birthDate": born}


def files(*extra: dict[str, Any]) -> dict[str, str]:
    """A Bulk Data-style export (Patient.ndjson, Condition.ndjson) and a Bundle file."""
    patients = [patient("p1", "female", "2008-03-14"), patient("p2", "male", "2010-01-01")]
    conditions = [
        condition("c1", "Patient/p1", "HP:0000829", "Hypoparathyroidism", "2014-02-03"),
        condition(
            "c2", "http://example.org/fhir/Patient/p2", "HP:0001250", "Seizure", "2012-01-01"
        ),
        *extra,
    ]
    procedure = {
        "resourceType": "Procedure",
        "id": "pr1",
        "status": "completed",
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "80146002"}]},
        "subject": {"reference": "Patient/p2"},
    }
    observation = {
        "resourceType": "Observation",
        "id": "o1",
        "status": "final",
        "code": {
            "coding": [{"system": "http://loinc.org", "code": "8302-2", "display": "Body height"}]
        },
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2020-03-14",
        "valueQuantity": {
            "value": 148.5,
            "unit": "cm",
            "system": "http://unitsofmeasure.org",
            "code": "cm",
        },
    }
    own = patient("p3", "female", "2001-05-05")  # a Bundle whose Patient is its own
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": observation},
            {"fullUrl": "urn:uuid:p3", "resource": own},
            {"resource": condition("c3", "urn:uuid:p3", "HP:0001250", "Seizure", "2003-05-05")},
        ],
    }
    return {
        "Condition.ndjson": "".join(json.dumps(c) + "\n" for c in [*conditions, procedure]),
        "Patient.ndjson": "".join(json.dumps(p) + "\n" for p in patients),
        "bundle.json": json.dumps(bundle),
    }


def test_references_to_patients_in_other_files_resolve(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    root = write_submission(tmp_path / "s", submission_id="links", files=files(), profile="fhir")
    out = run_ingest(root, settings())
    assert out.result.status == "published", out.report["findings"]
    people = {r["phenopacket_id"]: r for r in out.rows("individuals")}
    assert sorted(people) == ["p1", "p2", "p3"]  # each once
    assert people["p1"]["source_file"] == "Patient.ndjson" and people["p1"]["source_row"] == 1

    features = sorted(
        (r["phenopacket_id"], r["term_id"], r["source_file"], r["source_row"], r["onset_age"])
        for r in out.rows("phenotypic_features")
    )
    assert features == [
        ("p1", "HP:0000829", "Condition.ndjson", 1, "P5Y10M20D"),  # dates -> ages, across files
        ("p2", "HP:0001250", "Condition.ndjson", 2, "P2Y"),
        ("p3", "HP:0001250", "bundle.json", 3, "P2Y"),
    ]
    [height] = out.rows("measurements")
    assert (height["phenopacket_id"], height["source_file"], height["source_row"]) == (
        "p1",
        "bundle.json",
        1,
    )
    [surgery] = out.rows("procedures")
    assert (surgery["phenopacket_id"], surgery["source_file"], surgery["source_row"]) == (
        "p2",
        "Condition.ndjson",
        3,
    )

    docs = out.documents()
    assert [f["type"]["id"] for f in docs["p1"]["phenotypicFeatures"]] == ["HP:0000829"]
    assert docs["p1"]["measurements"][0]["assay"]["id"] == "LOINC:8302-2"
    assert docs["p2"]["medicalActions"][0]["procedure"]["code"]["id"] == "SNOMEDCT:80146002"
    assert docs["p2"]["subject"]["sex"] == "MALE"
    if pxf.available():
        assert pxf.pxf_errors(out.phenopackets_dir) == []


def test_a_reference_to_a_patient_in_no_file_is_an_error_at_its_file_record_and_field(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    ghost = condition("c9", "Patient/ghost", "HP:0001250", "Seizure", "2012-01-01")
    root = write_submission(
        tmp_path / "s", submission_id="links", files=files(ghost), profile="fhir"
    )
    out = run_ingest(root, settings())
    assert out.result.status == "rejected"
    [missing] = out.findings("missing-patient")
    where = missing["location"]
    assert (where["file"], where["row"], where["column"]) == (
        "Condition.ndjson",
        3,
        "Condition.subject.reference",
    )
    assert where["value"] == "Patient/ghost"
    assert "no Patient of this submission" in missing["message"]
    errors = [f for f in out.report["findings"] if f["level"] == "error"]
    assert errors == [missing]
