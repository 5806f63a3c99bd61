"""``layout: long``: one row per observation, merged into one Phenopacket per individual."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from harmonize.settings import Settings
from tests.support import pxf

from .conftest import run_ingest, write_submission

MAPPING = """\
layout: long
id_column: id
sex: {column: sex, values: {f: FEMALE, m: MALE}}
age_at_last_encounter: {column: age}
diseases:
  - {column: dx, prefix: ICD10}
phenotypes:
  - {column: symptom, separator: ";"}
measurements:
  - column: wbc
    assay: LOINC:6690-2
    assay_label: Leukocytes [#/volume] in Blood by Automated count
    unit: UCUM:10*3/uL
    unit_label: thousand per microliter
    time_observed: {column: age}
"""


def submit(tmp_path: Path, csv: str) -> Path:
    return write_submission(
        tmp_path / "long",
        submission_id="long",
        files={"visits.csv": csv, "mapping.yaml": MAPPING},
        mapping="mapping.yaml",
    )


def test_rows_of_one_individual_become_one_phenopacket(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    csv = (
        "id,sex,age,dx,symptom,wbc\n"
        "p1,f,P40Y,E11,Seizure,6.1\n"
        "p2,m,P30Y,I10,,5.0\n"
        "p1,,P41Y,E11,Hypotonia; Seizure,6.5\n"
        "p1,,,,,\n"
    )
    out = run_ingest(submit(tmp_path, csv), settings())
    assert out.result.status == "published", out.report["findings"]
    people = {r["phenopacket_id"]: r for r in out.rows("individuals")}
    assert set(people) == {"p1", "p2"}
    assert people["p1"]["sex"] == "FEMALE" and people["p1"]["source_row"] == 2
    assert people["p1"]["age_at_last_encounter"] == "P41Y"  # the later encounter
    diseases = sorted((r["phenopacket_id"], r["term_id"]) for r in out.rows("diseases"))
    assert diseases == [("p1", "ICD10:E11"), ("p2", "ICD10:I10")]  # E11 once
    features = sorted(
        (r["term_id"], r["source_row"])
        for r in out.rows("phenotypic_features")
        if r["phenopacket_id"] == "p1"
    )
    assert features == [("HP:0001250", 2), ("HP:0001252", 4)]
    wbc = sorted(
        (r["time_observed_age"], r["value"])
        for r in out.rows("measurements")
        if r["phenopacket_id"] == "p1"
    )
    assert wbc == [("P40Y", 6.1), ("P41Y", 6.5)]
    docs = out.documents()
    assert len(docs) == 2
    assert len(docs["p1"]["measurements"]) == 2
    assert [d["term"]["id"] for d in docs["p1"]["diseases"]] == ["ICD10:E11"]
    if pxf.available():
        assert pxf.pxf_errors(out.phenopackets_dir) == []


def test_conflicting_values_of_one_individual_are_errors_at_the_cell(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    csv = "id,sex,age,dx,symptom,wbc\np1,f,P40Y,E11,,\np1,m,P41Y,,,\n"
    out = run_ingest(submit(tmp_path, csv), settings())
    assert out.result.status == "rejected"
    [conflict] = out.findings("conflicting-values")
    loc = conflict["location"]
    assert (loc["file"], loc["row"], loc["column"], loc["value"]) == (
        "visits.csv",
        3,
        "sex",
        "MALE",
    )
    assert "on row 2 of the same individual" in conflict["message"]


def test_a_wide_file_with_a_repeated_id_still_rejects(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    csv = "id,sex,age,dx,symptom,wbc\np1,f,P40Y,E11,,\np1,f,P41Y,,,\n"
    root = write_submission(
        tmp_path / "wide",
        submission_id="wide",
        files={"visits.csv": csv, "mapping.yaml": MAPPING.replace("layout: long\n", "")},
        mapping="mapping.yaml",
    )
    out = run_ingest(root, settings())
    assert out.result.status == "rejected"
    assert out.findings("duplicate-id")
