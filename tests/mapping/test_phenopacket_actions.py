"""A submitted Phenopacket's medicalActions, alternate ids and vital status reach the tables."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from harmonize.settings import Settings

from .conftest import run_ingest, write_submission


def test_submitted_medical_actions_and_subject_fields_are_table_rows(
    tmp_path: Path, submissions: Path, settings: Callable[..., Settings]
) -> None:
    folder = submissions / "fbxl4-phenopackets" / "phenopackets"
    doc = json.loads(next(iter(sorted(folder.glob("*.json")))).read_text())
    doc["subject"]["alternateIds"] = ["LOCAL:fam1-case1"]
    doc["subject"]["vitalStatus"] = {
        "status": "DECEASED",
        "timeOfDeath": {"age": {"iso8601duration": "P2Y"}},
        "causeOfDeath": {"id": "HP:0001250", "label": "Seizure"},
    }
    doc["medicalActions"] = [
        {"procedure": {"code": {"id": "HP:0001250", "label": "Seizure"}}},  # any class
        {"treatment": {"agent": {"id": "HP:0001250", "label": "Seizure"}}},
    ]
    root = write_submission(
        tmp_path / "s",
        submission_id="pp-actions",
        files={"case.json": json.dumps(doc)},
        profile="phenopacket",
    )
    out = run_ingest(root, settings())
    assert out.result.status == "published", out.report["findings"]
    [person] = out.rows("individuals")
    assert person["alternate_ids"] == ["LOCAL:fam1-case1"]
    assert (person["cause_of_death_id"], person["time_of_death_age"]) == ("HP:0001250", "P2Y")
    [procedure] = out.rows("procedures")
    [treatment] = out.rows("treatments")
    assert (procedure["source_file"], procedure["source_column"]) == (
        "case.json",
        "medicalActions[0]",
    )
    assert (treatment["agent_id"], treatment["source_column"]) == (
        "HP:0001250",
        "medicalActions[1]",
    )
    # the document is republished as submitted
    [published] = out.documents().values()
    assert published["medicalActions"] == doc["medicalActions"]
