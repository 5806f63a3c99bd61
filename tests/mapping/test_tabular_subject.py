"""Alternate ids and vital status (cause and time of death) in the ``tabular`` profile."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harmonize.errors import ConfigurationError
from harmonize.mapping.profiles.mapping_file import load_mapping
from harmonize.settings import Settings
from tests.support import pxf

from .conftest import run_ingest, write_submission

MAPPING = """\
id_column: id
sex: {column: sex, values: {f: FEMALE, m: MALE}}
date_of_birth: {column: dob}
alternate_ids:
  - {column: ukb, prefix: UKB}
  - {column: other, separator: ";"}
vital_status:
  column: vital
  values: {alive: ALIVE, dead: DECEASED}
  cause_of_death: {column: cod, prefix: ICD10, values: {heart attack: ICD10:I21.9}}
  time_of_death: {column: died, format: years}
diseases:
  - {column: dx, prefix: ICD10}
"""
HEADER = "id,sex,dob,ukb,other,vital,cod,died,dx\n"


def submit(tmp_path: Path, rows: str, mapping: str = MAPPING) -> Path:
    return write_submission(
        tmp_path / "subject",
        submission_id="subject",
        files={"cases.csv": HEADER + rows, "mapping.yaml": mapping},
        mapping="mapping.yaml",
    )


def test_alternate_ids_and_vital_status_reach_the_subject(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    rows = (
        "p1,f,1950-02-01,1000011,NHS:485 777 3456;LOCAL:a1,dead,I21.9 Acute myocardial infarction,"
        "2019-03-01,E11\n"
        "p2,m,1948-11-02,1000023,,dead,heart attack,71.5,I10\n"
        "p3,f,1960-07-30,,,alive,,,E11\n"
        "p4,m,1955-01-09,1000047,,,Alzheimer disease,,G30.9\n"  # a label: no name list yet
        "p5,m,1955-01-09,1000059,,,I10,2020-01-01,I10\n"  # no status: the cause implies death
    )
    rows = rows.replace("NHS:485 777 3456", "NHS:4857773456")
    out = run_ingest(submit(tmp_path, rows), settings())
    errors = [f for f in out.report["findings"] if f["level"] == "error"]
    # the label "Alzheimer disease" has no ICD-10 name list to resolve against
    assert [(f["category"], f["location"]["row"], f["location"]["column"]) for f in errors] == [
        ("unresolvable-label", 5, "cod")
    ]
    assert out.result.status == "rejected"

    rows = rows.replace("Alzheimer disease", "G30.9")
    out = run_ingest(submit(tmp_path / "again", rows), settings())
    assert out.result.status == "published", out.report["findings"]
    people = {r["phenopacket_id"]: r for r in out.rows("individuals")}
    assert people["p1"]["alternate_ids"] == ["UKB:1000011", "NHS:4857773456", "LOCAL:a1"]
    assert people["p3"]["alternate_ids"] is None
    assert people["p1"]["cause_of_death_id"] == "ICD10:I21.9"
    assert people["p2"]["cause_of_death_id"] == "ICD10:I21.9"  # through the value map
    assert people["p5"]["vital_status"] == "DECEASED"
    docs = out.documents()
    assert docs["p1"]["subject"]["alternateIds"] == ["UKB:1000011", "NHS:4857773456", "LOCAL:a1"]
    assert docs["p1"]["subject"]["vitalStatus"] == {
        "status": "DECEASED",
        "timeOfDeath": {"age": {"iso8601duration": "P69Y1M"}},  # the date, as an age
        "causeOfDeath": {"id": "ICD10:I21.9", "label": "Acute myocardial infarction"},
    }
    assert docs["p2"]["subject"]["vitalStatus"]["timeOfDeath"] == {
        "age": {"iso8601duration": "P71Y6M"}
    }
    # the list's label fills a cell that gave only a code
    assert docs["p2"]["subject"]["vitalStatus"]["causeOfDeath"]["label"]
    assert docs["p3"]["subject"]["vitalStatus"] == {"status": "ALIVE"}
    assert docs["p4"]["subject"]["vitalStatus"]["causeOfDeath"]["id"] == "ICD10:G30.9"
    assert docs["p5"]["subject"]["vitalStatus"]["status"] == "DECEASED"
    assert "ICD10" in {r["namespacePrefix"] for r in docs["p1"]["metaData"]["resources"]}
    if pxf.available():
        assert pxf.pxf_errors(out.phenopackets_dir) == []


def test_bad_alternate_ids_unknown_causes_and_a_living_dead_are_errors_at_their_cells(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    rows = (
        "p1,f,1950-02-01,10 00,OMIM:abc;no prefix,dead,I21.9,,E11\n"
        "p2,m,1948-11-02,1000023,,alive,I21.9,,I10\n"  # alive, with a cause of death
        "p3,m,1948-11-02,1000035,,dead,ICD10:Z99.999,,I10\n"  # no such code
        "p4,m,1948-11-02,1000047,,alive,,2001-01-01,I10\n"  # alive, with a time of death
    )
    out = run_ingest(submit(tmp_path, rows), settings())
    assert out.result.status == "rejected"
    errors = sorted(
        (f["category"], f["location"]["row"], f["location"]["column"], f["location"]["value"])
        for f in out.report["findings"]
        if f["level"] == "error"
    )
    assert errors == [
        ("conflicting-vital-status", 3, "cod", "ICD10:I21.9"),
        ("conflicting-vital-status", 5, "died", None),
        ("malformed-alternate-id", 2, "other", "OMIM:abc"),
        ("malformed-alternate-id", 2, "other", "no prefix"),
        ("malformed-alternate-id", 2, "ukb", "10 00"),
        ("unknown-term", 4, "cod", "ICD10:Z99.999"),
    ]


@pytest.mark.parametrize(
    ("vital", "message"),
    [
        ("vital_status: {values: {a: ALIVE}}", "give 'column', 'cause_of_death'"),
        (
            "vital_status: {cause_of_death: {column: c, separator: ';'}}",
            "one code per cell",
        ),
        ("alternate_ids: [{column: a, prefix: 'not a prefix'}]", "alternate_ids"),
    ],
)
def test_a_broken_vital_status_or_alternate_id_mapping_is_a_usage_error(
    tmp_path: Path, vital: str, message: str
) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text(f"id_column: id\n{vital}\n")
    with pytest.raises(ConfigurationError) as err:
        load_mapping(path)
    assert message in str(err.value)


def test_alternate_id_columns_may_be_named_alone(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text("id_column: id\nalternate_ids: [ukb, nhs]\n")
    m = load_mapping(path)
    assert [a.column for a in m.alternate_ids] == ["ukb", "nhs"]
    assert m.columns() == ["id", "ukb", "nhs"]
