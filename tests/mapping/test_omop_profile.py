"""The ``omop`` profile: OMOP CDM v5.4 CSV tables to Phenopackets, end to end.

The sample submission ``omop-cdm`` (see its PROVENANCE.md) holds four persons in the
PERSON, CONDITION_OCCURRENCE, OBSERVATION, MEASUREMENT, PROCEDURE_OCCURRENCE,
DRUG_EXPOSURE and CONCEPT tables. Each published Phenopacket's sex, diseases and
phenotypic features are compared with the expected content written by hand in
``data/omop-cdm-expected.json``.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from harmonize.quality.validate import validate_files
from harmonize.settings import Settings
from tests.support.pxf import needs_pxf, pxf_errors

from .conftest import SUBMISSIONS, Outcome, run_ingest

CDM = SUBMISSIONS / "omop-cdm"
EXPECTED = json.loads((Path(__file__).parent / "data" / "omop-cdm-expected.json").read_text())


@pytest.fixture(scope="module")
def cdm(tmp_path_factory: pytest.TempPathFactory, ontologies: Any) -> Outcome:
    from .conftest import new_workspace

    workspace = new_workspace(tmp_path_factory.mktemp("omop"), ontologies)
    return run_ingest(CDM, Settings(workspace=workspace, data_docs=False))


def _annotations(items: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    keys = (key, "excluded", "onset", "resolution")
    return sorted(
        ({k: item[k] for k in keys if k in item} for item in items), key=lambda a: a[key]["id"]
    )


def test_cdm_is_published(cdm: Outcome) -> None:
    assert cdm.result.status == "published", cdm.result.message
    assert cdm.result.counts["individuals"] == 4
    assert [f for f in cdm.report["findings"] if f["level"] in ("error", "warning")] == []
    [partial] = cdm.findings("partial-birth-date", "info")  # person 1002: no day of birth
    assert (partial["location"]["file"], partial["location"]["row"]) == ("PERSON.csv", 3)
    [skipped] = cdm.findings("record-not-mapped", "info")  # 1004's smoking finding
    assert skipped["location"]["file"] == "OBSERVATION.csv"


@pytest.mark.parametrize("pid", sorted(EXPECTED))
def test_each_person_matches_its_expected_phenopacket(cdm: Outcome, pid: str) -> None:
    doc = cdm.documents()[pid]
    expected = EXPECTED[pid]
    assert doc["subject"] == expected["subject"]
    assert _annotations(doc.get("diseases", []), "term") == expected["diseases"]
    assert (
        _annotations(doc.get("phenotypicFeatures", []), "type") == (expected["phenotypicFeatures"])
    )


def test_measurements_and_medical_actions(cdm: Outcome) -> None:
    docs = cdm.documents()
    [chloride] = docs["1001"]["measurements"]
    assert chloride == {
        "assay": {"id": "LOINC:2078-1", "label": "Chloride [Moles/volume] in Sweat"},
        "value": {
            "quantity": {
                "unit": {"id": "UCUM:mmol/L", "label": "millimole per liter"},
                "value": 102.0,
            }
        },
        "timeObserved": {"age": {"iso8601duration": "P19D"}},
    }
    assert docs["1003"]["medicalActions"] == [
        {
            "procedure": {
                "code": {"id": "SNOMEDCT:40701008", "label": "Echocardiography"},
                "performed": {"age": {"iso8601duration": "P30Y5M3D"}},
            }
        }
    ]
    assert docs["1004"]["medicalActions"] == [
        {"treatment": {"agent": {"id": "RXNORM:6809", "label": "metformin"}}}
    ]
    assert docs["1004"]["measurements"][0]["value"]["quantity"]["unit"]["id"] == "UCUM:%"
    prefixes = {r["namespacePrefix"] for r in docs["1001"]["metaData"]["resources"]}
    assert {"HP", "SNOMEDCT", "LOINC", "UCUM", "RXNORM"} <= prefixes


def test_tables_keep_the_file_row_and_field(cdm: Outcome) -> None:
    diseases = {r["phenopacket_id"]: r for r in cdm.rows("diseases")}
    # person 1004's second diabetes row (row 9) repeats the first (row 8): the first stands
    assert [r["phenopacket_id"] for r in cdm.rows("diseases")].count("1004") == 1
    t2d = diseases["1004"]
    assert (t2d["source_file"], t2d["source_row"], t2d["source_column"]) == (
        "CONDITION_OCCURRENCE.csv",
        8,
        "condition_concept_id",
    )
    gdd = next(r for r in cdm.rows("phenotypic_features") if r["term_id"] == "HP:0001263")
    assert (gdd["source_file"], gdd["source_row"]) == ("OBSERVATION.csv", 2)
    person = {r["phenopacket_id"]: r for r in cdm.rows("individuals")}["1003"]
    assert (person["source_file"], person["source_row"], person["profile"]) == (
        "PERSON.csv",
        4,
        "omop",
    )


def test_published_phenopackets_pass_validate(cdm: Outcome) -> None:
    report = validate_files([cdm.phenopackets_dir], cdm.settings)
    assert report.stats == {"phenopackets": 4}
    assert [f for f in report.findings if f.level in ("error", "warning")] == []


@needs_pxf
def test_published_phenopackets_pass_the_reference_validator(cdm: Outcome) -> None:
    assert pxf_errors(cdm.phenopackets_dir) == []


def test_small_batches_keep_each_person_whole(
    settings: Callable[..., Settings], cdm: Outcome
) -> None:
    out = run_ingest(CDM, settings(batch_size=2))
    assert out.result.status == "published", out.result.message
    for pid, doc in out.documents().items():
        want = cdm.documents()[pid]
        for key in ("subject", "diseases", "phenotypicFeatures", "measurements"):
            assert doc.get(key) == want.get(key), (pid, key)


# -- bad input --------------------------------------------------------------------------


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "sub"
    shutil.copytree(CDM, root)
    return root


def _edit(root: Path, name: str, row: int, column: str, value: str) -> None:
    """Set one cell (``row`` as the file numbers it, header = 1)."""
    rows = list(csv.reader(io.StringIO((root / name).read_text())))
    rows[row - 1][rows[0].index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    (root / name).write_text(out.getvalue())


def _rejected(out: Outcome, category: str) -> dict[str, Any]:
    assert out.result.status == "rejected", out.result.message
    assert not (out.settings.published_dir / "phenopackets").exists()
    found = out.findings(category, "error")
    assert found, [f["category"] for f in out.report["findings"]]
    return found[0]


def test_broken_table_file(tmp_path: Path, settings: Callable[..., Settings]) -> None:
    root = _copy(tmp_path)
    lines = (root / "MEASUREMENT.csv").read_text().splitlines()
    lines[2] += ',extra,"unclosed'
    (root / "MEASUREMENT.csv").write_text("\n".join(lines) + "\n")
    out = run_ingest(root, settings())
    assert out.result.status == "rejected"
    assert not (out.settings.published_dir / "phenopackets").exists()
    error = next(f for f in out.report["findings"] if f["level"] == "error")
    assert (error["location"]["file"], error["location"]["row"]) == ("MEASUREMENT.csv", 3)


def test_a_concept_id_without_a_concept_row(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    root = _copy(tmp_path)
    _edit(root, "CONDITION_OCCURRENCE.csv", 5, "condition_concept_id", "2000999999")
    error = _rejected(run_ingest(root, settings()), "unknown-concept")
    loc = error["location"]
    assert (loc["file"], loc["row"], loc["column"], loc["value"]) == (
        "CONDITION_OCCURRENCE.csv",
        5,
        "condition_concept_id",
        "2000999999",
    )
    assert "CONCEPT" in error["hint"]


def test_without_the_concept_table_nothing_is_guessed(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    root = _copy(tmp_path)
    manifest = yaml.safe_load((root / "manifest.yaml").read_text())
    manifest["files"] = [f for f in manifest["files"] if f["path"] != "CONCEPT.csv"]
    (root / "manifest.yaml").write_text(yaml.safe_dump(manifest))
    out = run_ingest(root, settings())
    _rejected(out, "unknown-concept")
    columns = {
        (f["location"]["file"], f["location"]["column"]) for f in out.findings("unknown-concept")
    }
    assert ("CONDITION_OCCURRENCE.csv", "condition_concept_id") in columns
    assert ("PERSON.csv", "gender_concept_id") not in columns  # the CDM's fixed Gender ids


def test_a_concept_from_an_unknown_vocabulary(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    root = _copy(tmp_path)
    # the Marfan concept (CONCEPT row 12) recoded in ICD10CM, which Harmonize does not map
    _edit(root, "CONCEPT.csv", 12, "vocabulary_id", "ICD10CM")
    _edit(root, "CONCEPT.csv", 12, "concept_code", "Q87.40")
    error = _rejected(run_ingest(root, settings()), "unknown-code-system")
    loc = error["location"]
    assert (loc["file"], loc["row"], loc["column"], loc["value"]) == (
        "CONDITION_OCCURRENCE.csv",
        5,
        "condition_concept_id",
        "ICD10CM",
    )
    assert "OrphaNet" in error["hint"] or "orphanet" in error["hint"]


def test_a_record_whose_person_is_not_in_person(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    root = _copy(tmp_path)
    _edit(root, "DRUG_EXPOSURE.csv", 3, "person_id", "1999")
    error = _rejected(run_ingest(root, settings()), "missing-person")
    loc = error["location"]
    assert (loc["file"], loc["row"], loc["column"], loc["value"]) == (
        "DRUG_EXPOSURE.csv",
        3,
        "person_id",
        "1999",
    )


def test_a_measurement_value_that_is_not_a_number(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    root = _copy(tmp_path)
    _edit(root, "MEASUREMENT.csv", 4, "value_as_number", "7,9%")
    error = _rejected(run_ingest(root, settings()), "bad-value")
    assert (error["location"]["file"], error["location"]["row"]) == ("MEASUREMENT.csv", 4)


def test_a_submission_without_person(tmp_path: Path, settings: Callable[..., Settings]) -> None:
    root = _copy(tmp_path)
    manifest = yaml.safe_load((root / "manifest.yaml").read_text())
    manifest["files"] = [f for f in manifest["files"] if f["path"] != "PERSON.csv"]
    (root / "manifest.yaml").write_text(yaml.safe_dump(manifest))
    out = run_ingest(root, settings())
    assert out.result.status == "rejected"
    assert "PERSON" in out.result.message
    assert not (out.settings.published_dir / "phenopackets").exists()


def test_a_file_not_named_after_a_table(tmp_path: Path, settings: Callable[..., Settings]) -> None:
    root = _copy(tmp_path)
    (root / "VISITS.csv").write_text("visit_occurrence_id,person_id\n1,1001\n")
    manifest = yaml.safe_load((root / "manifest.yaml").read_text())
    manifest["files"].append({"path": "VISITS.csv"})
    (root / "manifest.yaml").write_text(yaml.safe_dump(manifest))
    out = run_ingest(root, settings())
    assert out.result.status != "published"
    assert "VISITS.csv" in out.result.message


def test_a_person_twice_in_person(tmp_path: Path, settings: Callable[..., Settings]) -> None:
    root = _copy(tmp_path)
    _edit(root, "PERSON.csv", 5, "person_id", "1003")  # row 5 (1004) becomes 1003 again
    error = _rejected(run_ingest(root, settings()), "duplicate-id")
    loc = error["location"]
    assert (loc["file"], loc["row"], loc["column"], loc["value"]) == (
        "PERSON.csv",
        5,
        "person_id",
        "1003",
    )


def test_a_measurement_without_a_unit_is_not_published(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    root = _copy(tmp_path)
    _edit(root, "MEASUREMENT.csv", 4, "unit_concept_id", "0")
    out = run_ingest(root, settings())
    assert out.result.status == "published", out.result.message
    [warning] = out.findings("measurement-not-mapped", "warning")
    loc = warning["location"]
    assert (loc["file"], loc["row"], loc["column"]) == ("MEASUREMENT.csv", 4, "unit_concept_id")
    assert "measurements" not in out.documents()["1004"]


def test_tables_read_as_plain_csv_are_refused(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    root = _copy(tmp_path)
    manifest = yaml.safe_load((root / "manifest.yaml").read_text())
    manifest["files"][0]["format"] = "csv"  # PERSON.csv
    (root / "manifest.yaml").write_text(yaml.safe_dump(manifest))
    out = run_ingest(root, settings())
    assert out.result.status == "rejected"
    assert "omop reader" in out.result.message
