"""The HTML and JSON quality report."""

from __future__ import annotations

from pathlib import Path

from harmonize.quality.findings import Finding, Location, QualityReport
from harmonize.quality.html import render_report, write_report


def report() -> QualityReport:
    return QualityReport(
        submission_id="sub-42",
        status="rejected",
        validators=["gx:raw/hpo-case-template", "ontology-ids"],
        findings=[
            Finding(
                level="error",
                category="invalid-value",
                message="column 'sex' has '<script>alert(1)</script>'; expected one of M, F",
                validator="gx:raw/hpo-case-template",
                location=Location(
                    file="cases.xlsx",
                    sheet="Cases",
                    row=17,
                    column="sex",
                    value="<script>alert(1)</script>",
                ),
                hint="write M, F, O or U",
                data={"expectation": "expect_column_values_to_be_in_set", "unexpected_count": 313},
            ),
            Finding(
                level="error",
                category="invalid-value",
                message="312 more rows in column 'sex' fail the same check (313 in all)",
                validator="gx:raw/hpo-case-template",
                location=Location(file="cases.xlsx", sheet="Cases", column="sex"),
                data={"summary": True, "omitted": 312, "unexpected_count": 313},
            ),
            Finding(
                level="warning",
                category="synonym-match",
                message="'fits' matched HP:0001250 by synonym",
                validator="ontology-ids",
                location=Location(file="cases.xlsx", sheet="Cases", row=3, column="HPO"),
            ),
        ],
        stats={"rows": 400},
        data_docs=["/srv/docs/raw-hpo-case-template__cases.xlsx.html"],
    )


def test_report_shows_where_and_escapes_values() -> None:
    html = render_report(report())
    assert "sub-42" in html
    assert "rejected" in html
    assert "<td>cases.xlsx</td>" in html
    assert "<td>Cases</td>" in html
    assert "<td>17</td>" in html
    assert "<td>sex</td>" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html
    assert "write M, F, O or U" in html
    assert "gx:raw/hpo-case-template" in html and "ontology-ids" in html
    assert "Error: invalid-value (313)" in html  # the group counts the rows left out
    assert "312 more not listed" in html
    assert "Warning: synonym-match (1)" in html
    assert html.index("invalid-value") < html.index("synonym-match")  # errors first
    assert 'href="file:///srv/docs/raw-hpo-case-template__cases.xlsx.html"' in html
    assert "http://" not in html and "https://" not in html  # self-contained


def test_report_counts_per_level() -> None:
    """The headline counted a summary of 312 left-out rows as one error (2 in all) while its
    group said 313: a summary now counts the findings it stands for."""
    html = render_report(report())
    assert "<b>313</b>errors" in html
    assert "<b>1</b>warning" in html
    assert "<b>0</b>infos" in html


def test_clean_report() -> None:
    html = render_report(QualityReport(submission_id="ok-1", status="published"))
    assert "published" in html
    assert "No findings" in html


def test_write_report_round_trips(tmp_path: Path) -> None:
    original = report()
    original.data_docs = [str(tmp_path / "docs" / "page.html")]
    json_path, html_path = write_report(original, tmp_path / "out")
    assert json_path == tmp_path / "out" / "report.json"
    assert html_path == tmp_path / "out" / "report.html"
    assert QualityReport.model_validate_json(json_path.read_text()) == original
    assert 'href="../docs/page.html"' in html_path.read_text()  # relative to the report
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report.html", "report.json"]


def test_json_round_trip_keeps_everything() -> None:
    original = report()
    again = QualityReport.model_validate_json(original.model_dump_json(indent=2))
    assert again == original
    assert again.findings[0].location.value == "<script>alert(1)</script>"
    assert again.findings[1].data["omitted"] == 312
