"""A template with deliberate errors gives the same report as before the GX speed-ups.

``tests/data/reports/aire-with-errors.json`` is the report (minus what changes from run to
run: the submission id and the absolute paths of the Data Docs pages) that ``harmonize ingest`` wrote for
:func:`template_with_errors` on main before the Great Expectations work of issue #14
(suite expectations reused, Data Docs not rendered when off). Any change to which
expectations run or what they find shows up here as a difference.

Regenerate (only when a finding is meant to change):
``HARMONIZE_WRITE_GOLDEN=1 .venv/bin/pytest tests/pipeline/test_same_findings.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from harmonize.pipeline import ingest
from harmonize.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
AIRE = ROOT / "tests/data/phenopacket-store/AIRE/input/AIRE_APS1_individuals.xlsx"
GOLDEN = ROOT / "tests/data/reports/aire-with-errors.json"

# (sheet row, column header, value): each breaks one raw or harmonized expectation or check
ERRORS: tuple[tuple[int, str, Any], ...] = (
    (3, "sex", "X"),  # raw: sex in set
    (4, "disease_id", "OMIM 240300"),  # raw: disease id pattern
    (5, "individual_id", None),  # raw: not null; harmonized: required id
    (6, "HGNC_id", "HGNC3603"),  # raw: gene id pattern
    (7, "age_at_last_encounter", "seventeen"),  # malformed age
    (8, "individual_id", "patient 1"),  # duplicate of row 3's id, same PMID
    (9, "sex", "female"),
)


def template_with_errors(directory: Path) -> Path:
    """The AIRE case template (58 individuals) with the cells of :data:`ERRORS` replaced."""
    wb = openpyxl.load_workbook(AIRE)
    ws = wb.active
    header = [cell.value for cell in ws[1]]
    for row, column, value in ERRORS:
        ws.cell(row=row, column=header.index(column) + 1, value=value)
    path = directory / "AIRE_with_errors.xlsx"
    wb.save(path)
    return path


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    """The report without what differs between runs: where its Data Docs were written and
    the submission id (a hash of the file, which openpyxl stamps with the time it saved)."""
    report = dict(report)
    del report["submission_id"]
    report["data_docs"] = sorted(Path(p).name for p in report["data_docs"])
    return report


@pytest.mark.parametrize("data_docs", [True, False])
def test_report_of_a_template_with_errors_is_unchanged(
    tmp_path: Path, ontology_cache: Path, data_docs: bool
) -> None:
    settings = Settings(
        workspace=tmp_path / "ws",
        ontology_cache=ontology_cache,
        on_conflict="keep-observed",
        data_docs=data_docs,
    )
    result = ingest(template_with_errors(tmp_path), settings, profile="hpo-case-template")
    assert result.status == "rejected"
    assert result.report_json is not None
    report = comparable(json.loads(result.report_json.read_text()))
    if os.environ.get("HARMONIZE_WRITE_GOLDEN") and data_docs:
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    golden = json.loads(GOLDEN.read_text())
    if not data_docs:  # the same findings; no pages
        golden["data_docs"] = []
    assert report == golden
    assert any(f["validator"].startswith("gx:") for f in report["findings"])
