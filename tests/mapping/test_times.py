"""Every ``TimeElement`` form is read wherever a profile reads a time.

Regression: a real cohort was rejected because its ``age_at_last_encounter`` held an HPO
onset label ("Infantile onset"), which the Phenopacket schema allows.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from harmonize.mapping.times import TimeReader
from harmonize.settings import Settings
from tests.pipeline.test_bad_input import HEADER_1, HEADER_2, ROW

from .conftest import run_ingest, write_submission

# (age_of_onset, age_at_last_encounter, Seizure cell) per individual, and what each becomes
CASES: list[tuple[str, str, str, str]] = [
    # individual, age_of_onset, age_at_last_encounter, Seizure cell
    ("iso", "P1Y", "P5Y", "P2Y"),
    ("hpo-label", "Infantile onset", "Childhood onset", "Neonatal onset"),
    ("hpo-id", "HP:0003593", "HP:0011463", "HP:0003623"),
    ("gestational", "G32w4d", "G38w", "30+2 weeks gestation"),
    ("range", "P1Y/P3Y", "P5Y-P10Y", "P2Y to P4Y"),
    ("timestamp", "2019-03-15", "2024-01-01T10:30:00Z", "2020-06-01"),
]


def _case_file(path: Path) -> Path:
    header = HEADER_1
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerow(HEADER_2)
        for name, onset, last, seizure in CASES:
            row = list(ROW)
            row[header.index("individual_id")] = name
            row[header.index("age_of_onset")] = onset
            row[header.index("age_at_last_encounter")] = last
            row[header.index("Seizure")] = seizure
            row[header.index("Hypotonia")] = "na"
            w.writerow(row)
    return path


def _element(doc: dict[str, Any], where: str) -> dict[str, Any]:
    if where == "last":
        return doc["subject"]["timeAtLastEncounter"]
    if where == "disease":
        return doc["diseases"][0]["onset"]
    [feature] = doc["phenotypicFeatures"]
    assert feature["type"]["id"] == "HP:0001250" and not feature.get("excluded")
    return feature["onset"]


EXPECTED: dict[str, dict[str, dict[str, Any]]] = {
    "iso": {
        "disease": {"age": {"iso8601duration": "P1Y"}},
        "last": {"age": {"iso8601duration": "P5Y"}},
        "feature": {"age": {"iso8601duration": "P2Y"}},
    },
    "hpo-label": {
        "disease": {"ontologyClass": {"id": "HP:0003593", "label": "Infantile onset"}},
        "last": {"ontologyClass": {"id": "HP:0011463", "label": "Childhood onset"}},
        "feature": {"ontologyClass": {"id": "HP:0003623", "label": "Neonatal onset"}},
    },
    "gestational": {
        "disease": {"gestationalAge": {"weeks": 32, "days": 4}},
        "last": {"gestationalAge": {"weeks": 38}},
        "feature": {"gestationalAge": {"weeks": 30, "days": 2}},
    },
    "range": {
        "disease": {
            "ageRange": {"start": {"iso8601duration": "P1Y"}, "end": {"iso8601duration": "P3Y"}}
        },
        "last": {
            "ageRange": {"start": {"iso8601duration": "P5Y"}, "end": {"iso8601duration": "P10Y"}}
        },
        "feature": {
            "ageRange": {"start": {"iso8601duration": "P2Y"}, "end": {"iso8601duration": "P4Y"}}
        },
    },
    "timestamp": {
        "disease": {"timestamp": "2019-03-15T00:00:00Z"},
        "last": {"timestamp": "2024-01-01T10:30:00Z"},
        "feature": {"timestamp": "2020-06-01T00:00:00Z"},
    },
}
EXPECTED["hpo-id"] = EXPECTED["hpo-label"]


def test_case_template_reads_every_time_form(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    out = run_ingest(_case_file(tmp_path / "times.csv"), settings(), profile="hpo-case-template")
    assert out.result.status == "published", out.report["findings"]
    docs = {d["subject"]["id"]: d for d in out.documents().values()}
    assert set(docs) == set(EXPECTED)
    for name, places in EXPECTED.items():
        for where, element in places.items():
            assert _element(docs[name], where) == element, (name, where)
    # the tables hold the same times, one column per form
    individuals = {r["subject_id"]: r for r in out.rows("individuals")}
    assert individuals["gestational"]["last_encounter_gestational_weeks"] == 38
    assert individuals["hpo-label"]["last_encounter_term_id"] == "HP:0011463"
    assert individuals["range"]["last_encounter_age_range_end"] == "P10Y"
    assert individuals["timestamp"]["last_encounter_timestamp"] == datetime(
        2024, 1, 1, 10, 30, tzinfo=UTC
    )
    assert individuals["iso"]["age_at_last_encounter"] == "P5Y"
    features = {r["phenopacket_id"]: r for r in out.rows("phenotypic_features")}
    gestational = next(r for pid, r in features.items() if pid.endswith("gestational"))
    assert (gestational["onset_gestational_weeks"], gestational["onset_gestational_days"]) == (
        30,
        2,
    )


def test_an_unreadable_time_names_its_cell(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    path = tmp_path / "bad.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER_1)
        w.writerow(HEADER_2)
        row = list(ROW)
        row[HEADER_1.index("age_at_last_encounter")] = "last spring"
        w.writerow(row)
    out = run_ingest(path, settings(), profile="hpo-case-template")
    assert out.result.status == "rejected"
    [error] = out.findings("malformed-age", "error")
    assert error["location"]["column"] == "age_at_last_encounter"
    assert error["location"]["row"] == 3 and error["location"]["value"] == "last spring"
    assert "Infantile onset" in error["hint"] and "G32w4d" in error["hint"]


MAPPING = """\
id_column: pid
age_at_last_encounter: {column: age, format: years}
diseases:
  - column: dx
    onset: {column: dx_onset, format: years}
    resolution: {column: dx_resolved}
phenotypes:
  - column: seizures
    term: HP:0001250
    values: {yes: observed, no: excluded}
    onset: {column: seizure_onset}
    resolution: {column: seizure_resolved}
measurements:
  - column: hb
    assay: LOINC:718-7
    assay_label: Hemoglobin [Mass/volume] in Blood
    unit: UCUM:g/dL
    unit_label: gram per deciliter
    time_observed: {column: hb_when, format: months}
"""

CSV = """\
pid,age,dx,dx_onset,dx_resolved,seizures,seizure_onset,seizure_resolved,hb,hb_when
a,4.5,OMIM:615032,1-3,Childhood onset,yes,G24w,P3Y,11.8,18
b,Infantile onset,OMIM:615032,2,2021-05-01,yes,Neonatal onset,,12.1,2020-01-31
"""


def test_tabular_reads_times_in_every_place(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    root = write_submission(
        tmp_path / "sub",
        submission_id="times-tabular",
        files={"cases.csv": CSV, "mapping.yaml": MAPPING},
        mapping="mapping.yaml",
    )
    out = run_ingest(root, settings())
    assert out.result.status == "published", out.report["findings"]
    docs = {d["subject"]["id"]: d for d in out.documents().values()}
    a, b = docs["a"], docs["b"]
    assert a["subject"]["timeAtLastEncounter"] == {"age": {"iso8601duration": "P4Y6M"}}
    assert b["subject"]["timeAtLastEncounter"] == {
        "ontologyClass": {"id": "HP:0003593", "label": "Infantile onset"}
    }
    assert a["diseases"][0]["onset"] == {
        "ageRange": {"start": {"iso8601duration": "P1Y"}, "end": {"iso8601duration": "P3Y"}}
    }
    assert a["diseases"][0]["resolution"] == {
        "ontologyClass": {"id": "HP:0011463", "label": "Childhood onset"}
    }
    assert b["diseases"][0]["resolution"] == {"timestamp": "2021-05-01T00:00:00Z"}
    [fa] = a["phenotypicFeatures"]
    assert fa["onset"] == {"gestationalAge": {"weeks": 24}}
    assert fa["resolution"] == {"age": {"iso8601duration": "P3Y"}}
    assert a["measurements"][0]["timeObserved"] == {"age": {"iso8601duration": "P18M"}}
    assert b["measurements"][0]["timeObserved"] == {"timestamp": "2020-01-31T00:00:00Z"}


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        ("P3Y6M", "age", "P3Y6M"),
        ("6 months", "age", "P6M"),
        ("GA 30w", "gestational_weeks", 30),
        ("32+4 weeks gestation", "gestational_days", 4),
        ("P1Y \u2013 P2Y", "age_range_end", "P2Y"),
        ("2020-02-29", "timestamp", datetime(2020, 2, 29, tzinfo=UTC)),
    ],
)
def test_time_reader_forms(text: str, field: str, value: Any) -> None:
    found = TimeReader({})(text)
    assert found is not None and getattr(found, field) == value


@pytest.mark.parametrize("text", ["G50w", "G30w9d", "2020-02-30", "P1Y/", "yesterday", "P"])
def test_time_reader_refuses_what_is_not_a_time(text: str) -> None:
    assert TimeReader({})(text) is None
