"""What the ``tabular`` profile says: the submitter's columns, plausible ranges, usage errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from harmonize.cli import app
from harmonize.mapping.terms import judge
from harmonize.ontology import Ontologies
from harmonize.quality.checks import EXAMPLES
from harmonize.quality.expectations import run_suite
from harmonize.quality.findings import Location
from harmonize.settings import Settings

from .conftest import ROOT, run_ingest, write_submission

MAPPING = """\
id_column: id
sex: {column: gender, values: {f: FEMALE, m: MALE}}
measurements:
  - column: wbc
    assay: LOINC:6690-2
    assay_label: Leukocytes [#/volume] in Blood
    unit: UCUM:10*3/uL
    unit_label: thousand per microliter
    plausible: {min: 0, max: 100}
  - column: hb
    assay: LOINC:718-7
    assay_label: Hemoglobin [Mass/volume] in Blood
    unit: UCUM:g/dL
    unit_label: gram per deciliter
    plausible: {min: 3, max: 25, level: error}
"""


def submit(tmp_path: Path, csv: str, mapping: str = MAPPING, sid: str = "labs") -> Path:
    return write_submission(
        tmp_path / sid,
        submission_id=sid,
        files={"cases.csv": csv, "mapping.yaml": mapping},
        mapping="mapping.yaml",
    )


def test_implausible_values_are_warnings_at_their_row_and_column(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    csv = 'id,gender,wbc,hb\np1,f,-3.2,12\np2,m,6.1,13\np3,f,"250,5",14\n'
    out = run_ingest(submit(tmp_path, csv), settings(run_great_expectations=True))
    assert out.result.status == "published", out.report["findings"]
    found = out.findings("implausible-value")
    assert {(f["level"], f["location"]["row"], f["location"]["value"]) for f in found} == {
        ("warning", 2, "-3.2"),
        ("warning", 4, "250.5"),
    }
    for f in found:
        assert f["location"]["column"] == "wbc" and f["location"]["file"] == "cases.csv"
        assert "column 'wbc'" in f["message"] and "'value'" not in f["message"]
        assert "between 0 and 100 thousand per microliter" in f["message"]
        assert f["data"]["table_column"] == "value"  # the table's name is kept as data only
    assert "gx:harmonized/measurements" in out.report["validators"]
    # the values are still published: a plausibility finding is a warning
    assert len(out.rows("measurements")) == 6


def test_a_range_at_error_level_rejects(tmp_path: Path, settings: Callable[..., Settings]) -> None:
    csv = "id,gender,wbc,hb\np1,f,5,1.5\np2,m,6,12\n"
    out = run_ingest(submit(tmp_path, csv), settings(run_great_expectations=True))
    assert out.result.status == "rejected"
    [bad] = out.findings("implausible-value", "error")
    assert (bad["location"]["row"], bad["location"]["column"]) == (2, "hb")
    assert out.result.findings["error"] == out.report_counts()["error"] == 1


@pytest.mark.parametrize(
    ("plausible", "message"),
    [("{}", "give 'min', 'max' or both"), ("{min: 5, max: 1}", "is above 'max'")],
)
def test_a_bad_range_is_a_mapping_error(tmp_path: Path, plausible: str, message: str) -> None:
    from harmonize.errors import ConfigurationError
    from harmonize.mapping.profiles.mapping_file import load_mapping

    path = tmp_path / "mapping.yaml"
    path.write_text(MAPPING.replace("{min: 0, max: 100}", plausible))
    with pytest.raises(ConfigurationError) as err:
        load_mapping(path)
    assert message in err.value.message and "plausible" in err.value.message


def test_great_expectations_findings_name_the_submitters_columns() -> None:
    """A finding on the harmonized tables named the internal column ``term_id``."""
    table = pa.table(
        {
            "phenopacket_id": ["a", "b"],
            "term_id": ["OMIM 1", "OMIM:615032"],
            "source_file": ["x.csv", "x.csv"],
            "source_row": [2, 3],
            "source_column": ["diagnosis", "diagnosis"],
        }
    )

    def locate(i: int) -> Location:
        return Location(
            file="x.csv",
            row=table.column("source_row")[i].as_py(),
            column=table.column("source_column")[i].as_py(),
        )

    result = run_suite(
        "harmonized/diseases", table, locate=locate, expectations_dir=ROOT / "expectations"
    )
    [bad] = result.findings
    assert bad.location.column == "diagnosis" and bad.location.row == 2
    assert "column 'diagnosis'" in bad.message and "term_id" not in bad.message
    assert bad.data["table_column"] == "term_id"

    individuals = pa.table({"phenopacket_id": ["a"], "sex": ["X"]})
    result = run_suite(
        "harmonized/individuals",
        individuals,
        locate=lambda i: Location(file="x.csv", row=i + 2),
        expectations_dir=ROOT / "expectations",
        source_columns={"sex": "gender"},
    )
    [sex] = [f for f in result.findings if f.data["table_column"] == "sex"]
    assert sex.location.column == "gender"
    assert "column 'gender'" in sex.message and "'sex'" not in sex.message


def test_a_malformed_disease_id_cites_a_disease_code(ontologies: Ontologies) -> None:
    fix = judge("615032", ontologies, replace=True, example=EXAMPLES[("diseases", "term_id")])
    assert fix.category == "malformed-curie"
    assert "OMIM:154700" in (fix.message or "") and "HP:" not in (fix.message or "")
    assert "OMIM:154700" in (fix.hint or "")


runner = CliRunner()


def test_a_broken_mapping_is_a_usage_error_not_a_rejection(tmp_path: Path) -> None:
    root = submit(tmp_path, "id,gender\np1,f\n", MAPPING + "colour: blue\n", sid="broken")
    ws = tmp_path / "ws"
    result = runner.invoke(app, ["ingest", str(root), "-w", str(ws)])
    assert result.exit_code == 2, result.output
    assert "usage error" in result.output
    assert "mapping.yaml" in result.output and "colour" in result.output
    assert not (ws / "reports").exists()  # nothing was rejected, no report written
    # --mapping names the file for a single data file too
    bad = tmp_path / "bad.yaml"
    bad.write_text("id_column: [id\n")
    single = runner.invoke(
        app,
        ["ingest", str(root / "cases.csv"), "--profile", "tabular", "--mapping", str(bad)],
    )
    assert single.exit_code == 2 and "cannot read mapping file" in single.output


@pytest.mark.parametrize(
    ("named", "column"), [({"phenopacket_id": "eid"}, "eid"), ({}, "phenopacket_id")]
)
def test_an_id_column_is_not_named_after_the_rows_source_column(
    named: dict[str, str], column: str
) -> None:
    """A row's source column is where its term came from, not its id."""
    table = pa.table(
        {
            "phenopacket_id": [None, "b"],
            "term_id": ["OMIM:615032", "OMIM:615032"],
            "source_row": [2, 3],
            "source_column": ["diagnosis", "diagnosis"],
        }
    )
    result = run_suite(
        "harmonized/diseases",
        table,
        locate=lambda i: Location(file="x.csv", row=i + 2, column="diagnosis"),
        expectations_dir=ROOT / "expectations",
        extra=[
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "phenopacket_id"}}
        ],
        source_columns=named,
    )
    [missing] = result.findings
    assert missing.location.column == column and missing.location.row == 2
    assert f"column {column!r} is empty" in missing.message
