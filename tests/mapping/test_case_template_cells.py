"""Spreadsheet error values in an ``hpo-case-template`` submission: findings, exact counts.

The code is the ``tabular`` profile's (:mod:`harmonize.mapping.profiles.tabular_cells`),
run before the raw checks; the cohort is a real one (phenopacket-store's SUOX template)
with error values written into it as Excel writes them (error cells).
"""

from __future__ import annotations

import hashlib
import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import openpyxl
import yaml

from harmonize.settings import Settings

from .conftest import run_ingest

TERMS = ("Eczematoid dermatitis", "Hemiplegia", "Choreoathetosis", "Seizure")


def inject(source: Path, dest: Path) -> dict[str, Counter[str]]:
    """The SUOX cohort with error cells; returns the codes written, per column."""
    shutil.copytree(source, dest)
    xlsx = dest / "SUOX_ISOD_individuals.xlsx"
    book = openpyxl.load_workbook(xlsx)
    sheet = book.active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    col = {name: header.index(name) + 1 for name in header if name}
    first, last = 3, sheet.max_row  # two header rows
    written: dict[str, Counter[str]] = {}

    def put(row: int, name: str, code: str) -> None:
        sheet.cell(row, col[name]).value = code
        assert sheet.cell(row, col[name]).data_type == "e"  # an error cell, as Excel saves it
        written.setdefault(name, Counter())[code] += 1

    for name in TERMS:  # mapped: every row but the last, which says "observed"
        for row in range(first, last):
            put(row, name, "#DIV/0!" if row % 2 else "#REF!")
        sheet.cell(last, col[name]).value = "observed"
    put(first, "age_at_last_encounter", "#VALUE!")  # mapped fixed column
    sheet.cell(first + 2, col["comment"]).value = "see the paper's table 2"
    put(first + 1, "comment", "#N/A")  # unmapped, with text elsewhere: cell by cell
    put(first + 4, "comment", "#N/A")
    for row in range(first, last + 1):  # unmapped, nothing else in it: unusable
        put(row, "variant.comment", "#NAME?")
    book.save(xlsx)
    manifest = yaml.safe_load((dest / "manifest.yaml").read_text())
    manifest["files"][0]["sha256"] = hashlib.sha256(xlsx.read_bytes()).hexdigest()
    (dest / "manifest.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    return written


def test_error_cells_in_a_real_case_template_are_findings_with_exact_counts(
    tmp_path: Path, submissions: Path, settings: Callable[..., Settings]
) -> None:
    written = inject(submissions / "suox-isod", tmp_path / "suox")
    out = run_ingest(tmp_path / "suox", settings(run_great_expectations=True))
    assert out.result.status == "rejected"  # mapped columns lost values

    cells = out.findings("spreadsheet-error")
    assert {f["validator"] for f in cells} == {"profile:hpo-case-template"}
    # listed examples plus each column's summary add up to exactly what was written
    counted: Counter[str] = Counter()
    levels: dict[str, set[str]] = {}
    for f in cells:
        column = f["location"]["column"]
        counted[column] += f["data"]["omitted"] if f["data"].get("summary") else 1
        levels.setdefault(column, set()).add(f["level"])
    expected = {c: sum(n.values()) for c, n in written.items() if c != "variant.comment"}
    assert dict(counted) == expected
    assert any(f["data"].get("summary") for f in cells), "more than the report lists"
    assert all(levels[c] == {"error"} for c in (*TERMS, "age_at_last_encounter"))
    assert levels["comment"] == {"warning"}

    example = next(f for f in cells if f["location"]["column"] == "age_at_last_encounter")
    assert example["location"]["file"] == "SUOX_ISOD_individuals.xlsx"
    assert example["location"]["row"] == 3 and example["location"]["value"] == "#VALUE!"
    assert "spreadsheet error #VALUE!" in example["message"]
    assert "the case template profile reads this column" in example["message"]

    [unusable] = out.findings("unusable-column")
    assert unusable["location"]["column"] == "variant.comment"
    assert unusable["level"] == "warning"
    assert unusable["data"]["codes"] == {"#NAME?": sum(written["variant.comment"].values())}

    # the cells are emptied before anything reads them: no age, value-set or term finding
    # names an error code, and the headline count is the report's
    others = [
        f
        for f in out.report["findings"]
        if f["category"] not in ("spreadsheet-error", "unusable-column")
        and str(f["location"].get("value") or "").startswith("#")
    ]
    assert others == []
    counts = out.report_counts()
    assert out.result.findings["error"] == counts["error"]
    errors = sum(n for c, n in expected.items() if c != "comment")
    assert counts["error"] == errors
