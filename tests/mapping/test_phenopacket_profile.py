"""The ``phenopacket`` profile: documents republished as they are, and their validation."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from harmonize.cli import app
from harmonize.drs.registry import Registry
from harmonize.ontology import TermIndex
from harmonize.quality.validate import validate_files
from harmonize.settings import Settings

from .conftest import SUBMISSIONS, Outcome, run_ingest

FBXL4 = SUBMISSIONS / "fbxl4-phenopackets"
SEIZURE = "HP:0001250"
NERVOUS_PHYSIOLOGY = "HP:0012638"  # Abnormal nervous system physiology, an ancestor of Seizure
OBSOLETE = "HP:0002631"  # obsolete Dilatation of ascending aorta
REPLACEMENT = "HP:0002616"


def resource(prefix: str, version: str) -> dict[str, str]:
    return {
        "id": prefix.lower(),
        "name": prefix,
        "url": f"https://example.org/{prefix.lower()}",
        "version": version,
        "namespacePrefix": prefix,
        "iriPrefix": f"https://example.org/{prefix}_",
    }


GOOD: dict[str, Any] = {
    "id": "case-1",
    "subject": {
        "id": "patient-1",
        "sex": "FEMALE",
        "timeAtLastEncounter": {"age": {"iso8601duration": "P5Y"}},
    },
    "phenotypicFeatures": [
        {"type": {"id": SEIZURE, "label": "Seizure"}},
        {"type": {"id": "HP:0001252", "label": "Hypotonia"}, "excluded": True},
    ],
    "diseases": [{"term": {"id": "OMIM:615032", "label": "Intellectual developmental disorder"}}],
    "metaData": {
        "created": "2024-05-01T12:00:00Z",
        "createdBy": "tester",
        "resources": [resource("HP", "2025-01-16"), resource("OMIM", "unversioned")],
        "phenopacketSchemaVersion": "2.0.2",
    },
}


def good() -> dict[str, Any]:
    return copy.deepcopy(GOOD)


def write(tmp_path: Path, name: str, *docs: dict[str, Any]) -> Path:
    """One phenopacket as a ``.json`` file, several as JSON Lines."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    if len(docs) == 1:
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(docs[0], indent=2))
    else:
        path = tmp_path / f"{name}.jsonl"
        path.write_text("".join(json.dumps(d) + "\n" for d in docs))
    return path


def ingest_docs(
    tmp_path: Path, settings: Callable[..., Settings], name: str, *docs: dict[str, Any]
) -> Outcome:
    return run_ingest(write(tmp_path, name, *docs), settings(), profile="phenopacket")


def assert_rejected(out: Outcome) -> None:
    assert out.result.status == "rejected"
    assert out.report["status"] == "rejected"
    assert not out.phenopackets_dir.exists()
    assert Registry(out.settings.registry).objects_for_submission(out.sid) == []


# -- the fbxl4 submission -----------------------------------------------------------------


def test_fbxl4_documents_are_republished_unchanged(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    inputs = {
        d["id"]: d
        for d in (json.loads(p.read_text()) for p in sorted(FBXL4.glob("phenopackets/*.json")))
    }
    assert len(inputs) == 8
    out = run_ingest(FBXL4, settings())
    assert out.result.status == "published", out.report["findings"]
    assert out.result.findings["error"] == 0
    published = out.documents()
    assert published.keys() == inputs.keys()
    for pid, doc in inputs.items():
        assert published[pid] == doc, pid

    expected = {
        "individuals": len(inputs),
        "phenotypic_features": sum(len(d.get("phenotypicFeatures", [])) for d in inputs.values()),
        "diseases": sum(len(d.get("diseases", [])) for d in inputs.values()),
        "variants": sum(
            len(i["diagnosis"].get("genomicInterpretations", []))
            for d in inputs.values()
            for i in d.get("interpretations", [])
        ),
    }
    assert expected == {
        "individuals": 8,
        "phenotypic_features": 269,
        "diseases": 8,
        "variants": 9,
    }
    for name, n in expected.items():
        assert out.table(name).num_rows == n, name
        assert out.result.counts[name] == n
    assert out.table("measurements").num_rows == 0  # no measurements in these documents

    individuals = {r["phenopacket_id"]: r for r in out.rows("individuals")}
    assert individuals.keys() == inputs.keys()
    for pid, doc in inputs.items():
        row = individuals[pid]
        assert row["subject_id"] == doc["subject"]["id"]
        assert row["sex"] == doc["subject"].get("sex")
        assert row["profile"] == "phenopacket"
        assert row["reference_id"] == doc["metaData"]["externalReferences"][0]["id"]
    features = out.rows("phenotypic_features")
    assert sum(f["excluded"] for f in features) == sum(
        bool(f.get("excluded")) for d in inputs.values() for f in d["phenotypicFeatures"]
    )
    assert {f["resolution_method"] for f in features} == {"id"}
    assert all(f["source_column"].startswith("phenotypicFeatures[") for f in features)
    variants = out.rows("variants")
    assert all(v["hgvs_syntax"] is None or v["hgvs_syntax"].startswith("hgvs") for v in variants)
    names = {o.name for o in Registry(out.settings.registry).objects_for_submission(out.sid)}
    assert {f"{_file_name(pid)}.json" for pid in inputs} <= names


def _file_name(pid: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in pid)


def test_good_document_is_published_as_is(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    out = ingest_docs(tmp_path, settings, "good", good())
    assert out.result.status == "published", out.report["findings"]
    assert out.report["findings"] == []
    assert out.documents() == {"case-1": GOOD}


def test_quantities_and_qualitative_measurements(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    """proto3 JSON leaves out a zero quantity; an ontology-class value is not a quantity."""
    doc = good()
    doc["measurements"] = [
        {
            "assay": {"id": "LOINC:718-7", "label": "Hemoglobin"},
            "value": {"quantity": {"unit": {"id": "UCUM:g/dL", "label": "g/dL"}, "value": 12.5}},
        },
        {
            "assay": {"id": "LOINC:26464-8", "label": "Leukocytes"},
            "value": {"quantity": {"unit": {"id": "UCUM:10*3/uL", "label": "10^3/uL"}}},
        },
        {
            "assay": {"id": "LOINC:2345-7", "label": "Glucose"},
            "value": {"ontologyClass": {"id": "NCIT:C25223", "label": "Normal"}},
        },
    ]
    doc["metaData"]["resources"] += [
        resource("LOINC", "2.77"),
        resource("UCUM", "2.1"),
        resource("NCIT", "24.01"),
    ]
    out = ingest_docs(tmp_path, settings, "measured", doc)
    assert out.result.status == "published", out.report["findings"]
    assert out.documents() == {"case-1": doc}
    values = {r["assay_id"]: r["value"] for r in out.rows("measurements")}
    assert values == {"LOINC:718-7": 12.5, "LOINC:26464-8": 0.0}
    [info] = out.findings("qualitative-measurement")
    assert info["level"] == "info"
    assert info["location"]["path"] == "measurements[2].value"


def test_proto3_json_spellings_are_flattened(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    """proto3 JSON allows enum numbers and doubles as strings: valid protobuf, but the v2 JSON
    Schema asks for enum names and numbers, so the document is published in canonical
    spelling (the submitted file stays unchanged among the inputs)."""
    doc = good()
    doc["subject"]["sex"] = 2
    doc["subject"]["vitalStatus"] = {"status": "2"}
    doc["measurements"] = [
        {
            "assay": {"id": "LOINC:718-7", "label": "Hemoglobin"},
            "value": {"quantity": {"unit": {"id": "UCUM:g/dL", "label": "g/dL"}, "value": "12.5"}},
        }
    ]
    doc["metaData"]["resources"] += [resource("LOINC", "2.77"), resource("UCUM", "2.1")]
    out = ingest_docs(tmp_path, settings, "proto3", doc)
    assert out.result.status == "published", out.report["findings"]
    [published] = out.documents().values()
    assert published["subject"]["sex"] == "MALE"
    assert published["subject"]["vitalStatus"] == {"status": "DECEASED"}
    assert published["measurements"][0]["value"]["quantity"]["value"] == 12.5
    [info] = out.findings("canonical-spelling")
    assert info["level"] == "info"
    [row] = out.rows("individuals")
    assert (row["sex"], row["vital_status"]) == ("MALE", "DECEASED")
    assert [r["value"] for r in out.rows("measurements")] == [12.5]


# -- validation -----------------------------------------------------------------------


def test_obsolete_term_rejects(
    tmp_path: Path, settings: Callable[..., Settings], hp: TermIndex
) -> None:
    code = hp.code(OBSOLETE)
    assert code is not None and hp.is_obsolete(code) and hp.replaced_by(code) == REPLACEMENT
    doc = good()
    doc["phenotypicFeatures"].append(
        {"type": {"id": OBSOLETE, "label": "Dilatation of ascending aorta"}}
    )
    out = ingest_docs(tmp_path, settings, "obsolete", doc)
    assert_rejected(out)
    [error] = out.findings("obsolete-term")
    assert error["level"] == "error"
    assert OBSOLETE in error["message"] and REPLACEMENT in error["message"]
    assert error["location"]["value"] == OBSOLETE
    assert error["location"]["phenopacket_id"] == "case-1"
    assert error["location"]["column"] == "phenotypicFeatures[2]"


def test_observed_term_with_excluded_ancestor_rejects(
    tmp_path: Path, settings: Callable[..., Settings], hp: TermIndex
) -> None:
    seizure, ancestor = hp.code(SEIZURE), hp.code(NERVOUS_PHYSIOLOGY)
    assert seizure is not None and ancestor is not None
    assert hp.is_ancestor(ancestor, seizure)
    assert hp.label(ancestor) == "Abnormal nervous system physiology"
    doc = good()
    doc["phenotypicFeatures"].append(
        {
            "type": {"id": NERVOUS_PHYSIOLOGY, "label": "Abnormal nervous system physiology"},
            "excluded": True,
        }
    )
    out = ingest_docs(tmp_path, settings, "conflict", doc)
    assert_rejected(out)
    [error] = out.findings("excluded-ancestor")
    assert error["level"] == "error"
    assert SEIZURE in error["message"] and NERVOUS_PHYSIOLOGY in error["message"]
    assert error["location"]["value"] == SEIZURE


def test_prefix_without_resource_rejects(tmp_path: Path, settings: Callable[..., Settings]) -> None:
    doc = good()
    doc["metaData"]["resources"] = [r for r in doc["metaData"]["resources"] if r["id"] != "hp"]
    out = ingest_docs(tmp_path, settings, "noresource", doc)
    assert_rejected(out)
    [error] = out.findings("missing-resource")
    assert error["level"] == "error"
    assert error["location"]["value"] == "HP"
    assert error["location"]["path"] == "metaData.resources"
    assert "HP" in error["message"]


def test_missing_required_fields_reject(tmp_path: Path, settings: Callable[..., Settings]) -> None:
    doc = good()
    del doc["metaData"]["createdBy"]
    doc["phenotypicFeatures"].append({"type": {"label": "Seizure"}, "excluded": True})
    out = ingest_docs(tmp_path, settings, "required", doc)
    assert_rejected(out)
    errors = out.findings("missing-required-field", "error")
    paths = {f["location"].get("path") for f in errors}
    assert {"metaData.createdBy", "phenotypicFeatures[2].type"} <= paths
    assert any("createdBy" in f["message"] for f in errors)


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda d: d["subject"].update(favouriteColour="blue"), "favouriteColour"),
        (lambda d: d["phenotypicFeatures"][0].update(excluded="maybe"), "excluded"),
        (lambda d: d.update(phenotypicFeatures={"type": SEIZURE}), "phenotypicFeatures"),
    ],
    ids=["unknown-field", "wrong-type", "object-for-list"],
)
def test_not_a_phenopacket_v2_document_rejects(
    tmp_path: Path, settings: Callable[..., Settings], change: Any, complaint: str
) -> None:
    doc = good()
    change(doc)
    out = ingest_docs(tmp_path, settings, "schema", doc)
    assert_rejected(out)
    [error] = out.findings("schema")
    assert error["level"] == "error"
    assert complaint in error["message"]
    assert error["location"]["file"] == "schema.json"
    assert error["location"]["row"] == 1


def test_schema_error_points_at_the_line(tmp_path: Path, settings: Callable[..., Settings]) -> None:
    """In JSON Lines, the bad document is named by its line; the good ones are still checked."""
    bad = good()
    bad["id"] = "case-2"
    bad["subject"]["id"] = 5
    out = ingest_docs(tmp_path, settings, "lines", good(), bad)
    assert_rejected(out)
    [error] = out.findings("schema")
    assert (error["location"]["file"], error["location"]["row"]) == ("lines.jsonl", 2)
    assert out.result.counts["individuals"] == 1


# -- harmonize validate -----------------------------------------------------------------


def invoke(workspace: Path, *paths: Path) -> Any:
    runner = CliRunner()
    args = ["validate", *map(str, paths), "--workspace", str(workspace)]
    return runner.invoke(app, args, env={"COLUMNS": "400"})


def test_cli_validate_good_document(tmp_path: Path, workspace: Path) -> None:
    result = invoke(workspace, write(tmp_path, "good", good()))
    assert result.exit_code == 0, result.output
    assert "1 phenopackets: 0 errors, 0 warnings" in result.output
    assert not (workspace / "published").exists()


def test_cli_validate_bad_document(tmp_path: Path, workspace: Path) -> None:
    """An observed term with an observed ancestor breaks the annotation propagation rule."""
    doc = good()
    doc["id"] = "case-2"
    doc["phenotypicFeatures"].append({"type": {"id": NERVOUS_PHYSIOLOGY, "label": "x"}})
    result = invoke(workspace, write(tmp_path, "good", good()), write(tmp_path / "x", "bad", doc))
    assert result.exit_code == 1, result.output
    assert f"{NERVOUS_PHYSIOLOGY} (x) is observed, and so implied by" in result.output
    assert "error bad.json, row 1, column phenotypicFeatures[2]" in result.output
    assert "2 phenopackets: 1 errors, 0 warnings" in result.output


def test_cli_validate_obsolete_term_is_a_warning(tmp_path: Path, workspace: Path) -> None:
    """The reference validator warns about an obsolete id; so does ``validate``. (Ingest
    rejects it: a submitted Phenopacket is never rewritten.)"""
    doc = good()
    doc["phenotypicFeatures"][0]["type"] = {"id": OBSOLETE, "label": "obsolete"}
    result = invoke(workspace, write(tmp_path, "old", doc))
    assert result.exit_code == 0, result.output
    assert f"warning old.json, row 1, column phenotypicFeatures[0]: {OBSOLETE} is obsolete" in (
        result.output
    )
    assert REPLACEMENT in result.output
    assert "1 phenopackets: 0 errors, 1 warnings" in result.output


def test_cli_validate_schema_error_and_missing_file(tmp_path: Path, workspace: Path) -> None:
    doc = good()
    doc["surprise"] = True
    result = invoke(workspace, write(tmp_path, "odd", doc))
    assert result.exit_code == 1
    assert "not a valid Phenopacket v2 document" in result.output
    assert "surprise" in result.output
    missing = invoke(workspace, tmp_path / "nope.json")
    assert missing.exit_code == 1
    assert "file not found" in missing.output


def test_validate_files_reports_every_document(workspace: Path, tmp_path: Path) -> None:
    conflict = good()
    conflict["id"] = "case-2"
    conflict["phenotypicFeatures"].append(
        {"type": {"id": NERVOUS_PHYSIOLOGY, "label": "x"}, "excluded": True}
    )
    report = validate_files(
        [write(tmp_path, "both", good(), conflict)],
        Settings(workspace=workspace),
    )
    assert report.stats == {"phenopackets": 2}
    assert [(f.category, f.location.phenopacket_id) for f in report.findings] == [
        ("excluded-ancestor", "case-2")
    ]
    assert report.findings[0].location.row == 2
