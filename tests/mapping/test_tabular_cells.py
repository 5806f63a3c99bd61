"""Spreadsheet error values in a ``tabular`` submission, and counts that match the report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import openpyxl
import pyarrow as pa
import pytest

from harmonize.mapping.profiles.tabular_cells import MEANING, strip_spreadsheet_errors
from harmonize.quality.collect import FindingCollector
from harmonize.readers.base import SourceBatch
from harmonize.settings import Settings

from .conftest import run_ingest, write_submission

MAPPING = """\
id_column: id
sex: {column: sex, values: {f: FEMALE, m: MALE}}
phenotypes:
  - {column: seizures, term: HP:0001250, values: {yes: observed, no: excluded}}
measurements:
  - column: hb
    assay: LOINC:718-7
    assay_label: Hemoglobin [Mass/volume] in Blood
    unit: UCUM:g/dL
    unit_label: gram per deciliter
"""


def cohort(n: int) -> str:
    """``n`` rows: ``hb`` (mapped) holds #DIV/0! on rows 3..152, ``notes`` (unmapped) #N/A on
    every other row, ``bmi`` (unmapped) nothing but #REF! and #VALUE!."""
    lines = ["id,sex,seizures,hb,notes,bmi"]
    for i in range(n):
        hb = "#DIV/0!" if 1 <= i <= 150 else "12.5"
        notes = "#N/A" if i % 2 == 0 else "ok"
        bmi = "#REF!" if i % 3 else "#value!"
        lines.append(f"p{i},{'f' if i % 2 else 'm'},yes,{hb},{notes},{bmi}")
    return "\n".join(lines) + "\n"


def test_every_error_cell_is_a_finding_with_exact_counts_per_column(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    root = write_submission(
        tmp_path / "s",
        submission_id="sheet-errors",
        files={"cases.csv": cohort(300), "mapping.yaml": MAPPING},
        mapping="mapping.yaml",
    )
    out = run_ingest(root, settings())
    assert out.result.status == "rejected"  # a mapped column lost 150 values

    cells = out.findings("spreadsheet-error")
    listed = [f for f in cells if not f["data"].get("summary")]
    summaries = {f["location"]["column"]: f for f in cells if f["data"].get("summary")}
    # the first 100 of each level are examples; the rest are counted per column, exactly
    errors = [f for f in listed if f["level"] == "error"]
    assert len(errors) == 100
    assert {f["location"]["column"] for f in errors} == {"hb"}
    first = errors[0]
    assert (first["location"]["file"], first["location"]["row"]) == ("cases.csv", 3)
    assert first["location"]["value"] == "#DIV/0!"
    assert "spreadsheet error #DIV/0! (a division by zero)" in first["message"]
    assert summaries["hb"]["data"]["omitted"] == 50 and summaries["hb"]["level"] == "error"
    assert "50 more in column 'hb'" in summaries["hb"]["message"]
    warnings = [f for f in listed if f["level"] == "warning"]
    assert len(warnings) == 100 and {f["location"]["column"] for f in warnings} == {"notes"}
    assert summaries["notes"]["data"]["omitted"] == 50  # 150 #N/A cells in all
    assert summaries["notes"]["level"] == "warning"
    assert "bmi" not in summaries and all(f["location"]["column"] != "bmi" for f in cells)

    # a column of nothing but errors: one finding for the whole column
    [unusable] = out.findings("unusable-column")
    assert unusable["location"]["column"] == "bmi" and unusable["level"] == "warning"
    assert unusable["data"] == {"cells": 300, "codes": {"#REF!": 200, "#VALUE!": 100}}
    assert "nothing but spreadsheet error values" in unusable["message"]

    # the cell is emptied, not read as a value the mapping does not understand
    assert out.findings("bad-value") == []
    # the headline count is the report's count
    counts = out.report_counts()
    assert out.result.findings["error"] == counts["error"] == 150
    assert out.result.message.startswith(f"{counts['error']} errors, {counts['warning']} warnings")
    assert counts["warning"] == 150 + 1


def test_xlsx_error_cells_are_findings_at_their_sheet_row_and_column(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    root = tmp_path / "x"
    root.mkdir()
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "cohort"
    sheet.append(["id", "sex", "seizures", "hb", "lookup"])
    sheet.append(["p1", "f", "yes", 12.1, "#N/A"])
    sheet.append(["p2", "m", "#NAME?", 13.0, "x"])
    assert sheet["C3"].data_type == "e"  # stored as an error cell, as Excel does
    book.save(root / "cases.xlsx")
    write_submission(
        root, submission_id="xlsx-errors", files={"mapping.yaml": MAPPING}, mapping="mapping.yaml"
    )
    manifest = (root / "manifest.yaml").read_text()
    (root / "manifest.yaml").write_text(manifest.replace("files: []", "files:\n- path: cases.xlsx"))
    out = run_ingest(root, settings())
    got = {
        (f["level"], f["location"]["sheet"], f["location"]["row"], f["location"]["column"])
        for f in out.findings("spreadsheet-error")
    }
    assert got == {("error", "cohort", 3, "seizures"), ("warning", "cohort", 2, "lookup")}
    assert out.result.status == "rejected"
    assert out.findings("bad-value") == []


def test_strip_spreadsheet_errors_reports_an_unusable_column_once() -> None:
    findings = FindingCollector()
    unusable: set[str] = set()
    for first in (2, 4):
        batch = SourceBatch(
            "a.csv",
            pa.table({"x": ["#REF!", "#ref!"], "y": ["1", None]}),
            pa.array([first, first + 1], pa.int64()),
        )
        out = strip_spreadsheet_errors(batch, findings, {"x"}, unusable)
        assert out.table.column("x").to_pylist() == [None, None]
        assert out.table.column("y").to_pylist() == ["1", None]
    assert unusable == {"x"}
    [finding] = findings.findings()
    assert (finding.category, finding.level, finding.location.column) == (
        "unusable-column",
        "error",
        "x",
    )


@pytest.mark.parametrize(
    "code", ["#REF!", "#N/A", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!"]
)
def test_the_seven_codes_are_known(code: str) -> None:
    assert code in MEANING


def test_the_cli_headline_and_its_tail_count_every_error(tmp_path: Path, workspace: Path) -> None:
    """The CLI said "... and 91 more" of 150 errors: it counted the findings listed, a
    summary of 50 as one."""
    from typer.testing import CliRunner

    from harmonize.cli import app

    root = write_submission(
        tmp_path / "s",
        submission_id="sheet-errors-cli",
        files={"cases.csv": cohort(300), "mapping.yaml": MAPPING},
        mapping="mapping.yaml",
    )
    result = CliRunner().invoke(app, ["ingest", str(root), "-w", str(workspace)])
    assert result.exit_code == 1, result.output
    assert "rejected sheet-errors-cli: 150 errors, 151 warnings" in result.output
    assert result.output.count("spreadsheet-error") == 10
    assert "... and 140 more in the report" in result.output
