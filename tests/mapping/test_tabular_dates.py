"""Dates of birth and visit dates turned into ages by the ``tabular`` profile."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from harmonize.settings import Settings
from tests.support import pxf

from .conftest import run_ingest, write_submission

MAPPING = """\
id_column: id
sex: {column: sex, values: {f: FEMALE, m: MALE}}
date_of_birth: {column: dob}
age_at_last_encounter: {column: visit, format: years}
diseases:
  - column: dx
    prefix: ICD10
    onset: {column: dx_date}
measurements:
  - column: hb
    assay: LOINC:718-7
    assay_label: Hemoglobin [Mass/volume] in Blood
    unit: UCUM:g/dL
    unit_label: gram per deciliter
    time_observed: {column: hb_date}
"""


def submit(tmp_path: Path, csv: str) -> Path:
    return write_submission(
        tmp_path / "dates",
        submission_id="dates",
        files={"cases.csv": csv, "mapping.yaml": MAPPING},
        mapping="mapping.yaml",
    )


def test_dates_become_ages_at_that_date(tmp_path: Path, settings: Callable[..., Settings]) -> None:
    csv = (
        "id,sex,dob,visit,dx,dx_date,hb,hb_date\n"
        "p1,f,1980-01-15,2025-04-27,E11,2019-03-01,12.5,2025-04-27\n"
        "p2,m,,2024-06-30,I10,,13.1,2024-06-30\n"  # no date of birth: a date stays a date
        "p3,f,2001-12-24,41,G30.9,P20Y,14,\n"  # ages and numbers are left as they are
    )
    out = run_ingest(submit(tmp_path, csv), settings())
    assert out.result.status == "published", out.report["findings"]
    people = {r["phenopacket_id"]: r for r in out.rows("individuals")}
    assert people["p1"]["age_at_last_encounter"] == "P45Y3M12D"
    assert people["p1"]["last_encounter_timestamp"] is None
    assert people["p2"]["age_at_last_encounter"] is None
    assert people["p2"]["last_encounter_timestamp"] is not None
    assert people["p3"]["age_at_last_encounter"] == "P41Y"
    assert all(r["date_of_birth"] is None for r in people.values())  # never published
    onsets = {r["phenopacket_id"]: r["onset_age"] for r in out.rows("diseases")}
    assert onsets == {"p1": "P39Y1M14D", "p2": None, "p3": "P20Y"}
    [hb] = [r for r in out.rows("measurements") if r["phenopacket_id"] == "p1"]
    assert hb["time_observed_age"] == "P45Y3M12D"

    docs = out.documents()
    assert docs["p1"]["subject"]["timeAtLastEncounter"] == {"age": {"iso8601duration": "P45Y3M12D"}}
    assert docs["p1"]["diseases"][0]["onset"] == {"age": {"iso8601duration": "P39Y1M14D"}}
    assert "timestamp" in docs["p2"]["subject"]["timeAtLastEncounter"]
    assert "1980-01-15" not in json.dumps(docs)
    if pxf.available():
        assert pxf.pxf_errors(out.phenopackets_dir) == []


def test_a_bad_date_of_birth_and_a_date_before_birth_are_errors_at_their_cells(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    csv = (
        "id,sex,dob,visit,dx,dx_date,hb,hb_date\n"
        "p1,f,15/01/1980,2025-04-27,E11,,,\n"
        "p2,m,2000-05-01,1999-12-31,E11,,,\n"
    )
    out = run_ingest(submit(tmp_path, csv), settings())
    assert out.result.status == "rejected"
    [bad] = out.findings("malformed-date")
    assert (bad["location"]["row"], bad["location"]["column"], bad["location"]["value"]) == (
        2,
        "dob",
        "15/01/1980",
    )
    [before] = out.findings("date-before-birth")
    assert (before["location"]["row"], before["location"]["column"]) == (3, "visit")
    assert "1999-12-31 is before the date of birth 2000-05-01" in before["message"]


PROCEDURES = """\
id_column: id
date_of_birth: {column: dob}
procedures:
  - column: surgery
    prefix: SNOMEDCT
    separator: ";"
    values: {appendix out: SNOMEDCT:80146002}
    performed: {column: surgery_date}
"""


def test_procedures_become_medical_actions(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    csv = (
        "id,dob,surgery,surgery_date\n"
        "p1,1980-01-15,80146002 Appendectomy; 387713003,2000-03-15\n"
        "p2,1990-06-01,Appendix out,\n"
        "p3,1990-06-01,,\n"
    )
    root = write_submission(
        tmp_path / "proc",
        submission_id="proc",
        files={"cases.csv": csv, "mapping.yaml": PROCEDURES},
        mapping="mapping.yaml",
    )
    out = run_ingest(root, settings())
    assert out.result.status == "published", out.report["findings"]
    docs = out.documents()
    assert docs["p1"]["medicalActions"] == [
        {
            "procedure": {
                "code": {"id": "SNOMEDCT:80146002", "label": "Appendectomy"},
                "performed": {"age": {"iso8601duration": "P20Y2M"}},
            }
        },
        {
            "procedure": {
                "code": {"id": "SNOMEDCT:387713003", "label": "SNOMEDCT:387713003"},
                "performed": {"age": {"iso8601duration": "P20Y2M"}},
            }
        },
    ]
    assert docs["p2"]["medicalActions"] == [
        {"procedure": {"code": {"id": "SNOMEDCT:80146002", "label": "SNOMEDCT:80146002"}}}
    ]
    assert "medicalActions" not in docs["p3"]
    assert {r["namespacePrefix"] for r in docs["p1"]["metaData"]["resources"]} >= {"SNOMEDCT"}
    missing = {f["location"]["value"] for f in out.findings("missing-label")}
    assert missing == {"SNOMEDCT:387713003", "SNOMEDCT:80146002"}
    if pxf.available():
        assert pxf.pxf_errors(out.phenopackets_dir) == []


def test_a_bad_procedure_code_is_an_error_at_its_cell(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    csv = "id,dob,surgery,surgery_date\np1,1980-01-15,MAXO:12,\n"
    root = write_submission(
        tmp_path / "badproc",
        submission_id="badproc",
        files={"cases.csv": csv, "mapping.yaml": PROCEDURES},
        mapping="mapping.yaml",
    )
    out = run_ingest(root, settings())
    assert out.result.status == "rejected"
    [bad] = out.findings("malformed-curie")
    assert (bad["location"]["row"], bad["location"]["column"]) == (2, "surgery")
    assert bad["location"]["value"] == "MAXO:12"
    assert not out.phenopackets_dir.exists()
