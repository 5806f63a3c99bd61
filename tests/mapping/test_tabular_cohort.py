"""The README's worked example of the grown-up ``tabular`` profile, end to end."""

from __future__ import annotations

import pytest

from harmonize.ontology import Ontologies
from harmonize.quality.schema import schema_errors
from harmonize.settings import Settings
from tests.support import pxf

from .conftest import ROOT, SUBMISSIONS, Outcome, new_workspace, run_ingest

COHORT = SUBMISSIONS / "cohort-tabular"


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory, ontologies: Ontologies) -> Outcome:
    workspace = new_workspace(tmp_path_factory.mktemp("cohort"), ontologies)
    return run_ingest(COHORT, Settings(workspace=workspace, data_docs=False))


def test_the_readme_shows_the_mapping_as_it_is() -> None:
    readme = (ROOT / "README.md").read_text()
    assert (COHORT / "mapping.yaml").read_text() in readme


def test_the_cohort_is_published_with_its_warnings(cohort: Outcome) -> None:
    assert cohort.result.status == "published", cohort.report["findings"]
    assert cohort.result.counts["individuals"] == 6
    counts = cohort.report_counts()
    assert counts["error"] == 0
    assert cohort.result.findings == counts
    [implausible] = cohort.findings("implausible-value")
    loc = implausible["location"]
    assert (loc["row"], loc["column"], loc["value"], implausible["level"]) == (
        4,
        "wbc",
        "-1.4",
        "warning",
    )
    sheet = {
        (f["location"]["row"], f["location"]["column"])
        for f in cohort.findings("spreadsheet-error")
    }
    assert sheet == {(3, "bmi_calc"), (7, "bmi_calc")}
    assert {f["level"] for f in cohort.findings("spreadsheet-error")} == {"warning"}


def test_the_cohort_documents(cohort: Outcome) -> None:
    docs = cohort.documents()
    first = docs["cohort_1000011"]
    assert first["subject"] == {
        "id": "1000011",
        "timeAtLastEncounter": {"age": {"iso8601duration": "P57Y2M7D"}},
        "sex": "FEMALE",
    }
    assert [d["term"] for d in first["diseases"]] == [
        {"id": "ICD10:E11", "label": "Type 2 diabetes mellitus"},
        {"id": "ICD10:I10", "label": "Essential (primary) hypertension"},
    ]
    assert first["medicalActions"] == [
        {
            "procedure": {
                "code": {"id": "SNOMEDCT:80146002", "label": "Appendectomy"},
                "performed": {"age": {"iso8601duration": "P19Y4M19D"}},
            }
        }
    ]
    diseases = {
        pid: sorted(d["term"]["id"] for d in doc.get("diseases", [])) for pid, doc in docs.items()
    }
    assert diseases == {
        "cohort_1000011": ["ICD10:E11", "ICD10:I10"],
        "cohort_1000023": ["ICD10:G30.9"],
        "cohort_1000035": ["ICD10:E11", "ICD10:G30.9"],
        "cohort_1000047": ["ICD10:I10"],
        "cohort_1000059": ["ICD10:E11.9"],
        "cohort_1000061": ["ICD10:I10"],
    }
    for pid, doc in docs.items():
        assert schema_errors(doc) == [], pid
    if pxf.available():
        assert pxf.pxf_errors(cohort.phenopackets_dir) == []
