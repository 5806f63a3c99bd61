"""The real GX suites on small tables: findings point at file, sheet, row and column."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from harmonize.errors import ConfigurationError
from harmonize.mapping.tables import SCHEMAS, conform
from harmonize.quality.expectations import batch_definition, run_suite
from harmonize.quality.findings import Finding, Location
from harmonize.quality.suites import available_suites, load_suite
from tests.quality.conftest import sheet_locator

RAW = "raw/hpo-case-template"


def raw_table(**overrides: list[str | None]) -> pa.Table:
    columns: dict[str, list[str | None]] = {
        "PMID": ["PMID:1", "PMID:1", "PMID:1", "PMID:2"],
        "individual_id": ["P1", "P2", "P3", "P1"],
        "sex": ["M", "F", "U", "O"],
        "disease_id": ["OMIM:154700", "ORPHA:558", "MONDO:0007947", "OMIM:154700"],
        "HGNC_id": ["HGNC:3603", None, "", "HGNC:3603"],
    }
    columns.update(overrides)
    return pa.table({k: pa.array(v, pa.string()) for k, v in columns.items() if v is not None})


def by_expectation(findings: list[Finding], kind: str) -> list[Finding]:
    return [f for f in findings if f.data.get("expectation") == kind]


def test_every_suite_file_loads(expectations_dir: Path) -> None:
    names = available_suites(expectations_dir)
    assert {RAW, "raw/tabular"} <= set(names)
    assert {f"harmonized/{t}" for t in SCHEMAS} <= set(names)
    for name in names:
        spec = load_suite(name, expectations_dir=expectations_dir)
        assert spec.name == name
        assert spec.validator == f"gx:{name}"


def test_clean_raw_table_passes(expectations_dir: Path, locate) -> None:
    result = run_suite(RAW, raw_table(), locate=locate, expectations_dir=expectations_dir)
    assert result.validator == "gx:raw/hpo-case-template"
    assert result.findings == []
    assert result.success
    assert result.statistics["rows"] == 4
    assert result.statistics["gx_success"] == 1
    assert result.data_docs == []


def test_bad_raw_values_point_at_row_column_value(expectations_dir: Path, locate) -> None:
    table = raw_table(
        individual_id=["P1", "P2", "P2", "  "],
        sex=["M", "X", "F", "<script>"],
        disease_id=["OMIM:154700", "OMIM 154700", "ORPHA:558", "MONDO:1"],
        HGNC_id=["HGNC:3603", "BRCA1", None, "HGNC:1"],
    )
    result = run_suite(RAW, table, locate=locate, expectations_dir=expectations_dir)
    assert not result.success
    assert all(f.validator == "gx:raw/hpo-case-template" for f in result.findings)

    def where(f: Finding) -> tuple[str | None, str | None, int | None, str | None, str | None]:
        loc = f.location
        return (loc.file, loc.sheet, loc.row, loc.column, loc.value)

    (blank,) = by_expectation(result.findings, "expect_column_values_to_not_be_null")
    assert where(blank)[:4] == ("cases.xlsx", "Cases", 5, "individual_id")
    assert blank.category == "missing-value"
    assert blank.level == "error"

    dups = by_expectation(result.findings, "expect_compound_columns_to_be_unique")
    assert [where(f) for f in dups] == [
        ("cases.xlsx", "Cases", 3, "PMID, individual_id", "PMID:1 | P2"),
        ("cases.xlsx", "Cases", 4, "PMID, individual_id", "PMID:1 | P2"),
    ]
    assert {f.category for f in dups} == {"duplicate-id"}
    assert "'PMID' and 'individual_id'" in dups[0].message

    sexes = by_expectation(result.findings, "expect_column_values_to_be_in_set")
    assert [where(f) for f in sexes] == [
        ("cases.xlsx", "Cases", 3, "sex", "X"),
        ("cases.xlsx", "Cases", 5, "sex", "<script>"),
    ]
    assert sexes[0].category == "invalid-value"
    assert "'X'" in sexes[0].message and "sex" in sexes[0].message
    assert "M (male)" in sexes[0].message  # says what was expected
    assert sexes[0].hint and "U" in sexes[0].hint
    assert sexes[0].data["unexpected_count"] == 2

    regex = by_expectation(result.findings, "expect_column_values_to_match_regex")
    assert sorted(where(f) for f in regex) == [
        ("cases.xlsx", "Cases", 3, "HGNC_id", "BRCA1"),
        ("cases.xlsx", "Cases", 3, "disease_id", "OMIM 154700"),
    ]
    assert {f.category for f in regex} == {"invalid-identifier"}
    assert not [f for f in result.findings if f.data.get("summary")]


def test_same_individual_id_in_two_publications_is_fine(expectations_dir: Path, locate) -> None:
    table = raw_table(PMID=["PMID:1", "PMID:2", "PMID:3", "PMID:4"], individual_id=["P1"] * 4)
    result = run_suite(RAW, table, locate=locate, expectations_dir=expectations_dir)
    assert result.findings == []


def test_missing_column_is_one_finding_at_the_file(expectations_dir: Path, locate) -> None:
    table = raw_table().drop_columns(["sex"])
    result = run_suite(RAW, table, locate=locate, expectations_dir=expectations_dir)
    (finding,) = result.findings
    assert finding.category == "missing-column"
    assert finding.level == "error"
    assert finding.location == Location(file="cases.xlsx", sheet="Cases", column="sex")
    assert finding.location.row is None
    assert "sex" in finding.message and "missing" in finding.message
    assert finding.hint and "header" in finding.hint
    assert result.statistics["skipped_expectations"] == 1  # the value-set check on sex


def test_optional_column_absent_is_not_a_finding(expectations_dir: Path, locate) -> None:
    table = raw_table().drop_columns(["HGNC_id"])
    result = run_suite(RAW, table, locate=locate, expectations_dir=expectations_dir)
    assert result.findings == []
    assert result.statistics["skipped_expectations"] == 1


def test_empty_table_points_at_origin(expectations_dir: Path, locate) -> None:
    table = raw_table().slice(0, 0)
    origin = Location(file="cases.csv")
    result = run_suite(RAW, table, locate=locate, expectations_dir=expectations_dir, origin=origin)
    (finding,) = result.findings
    assert finding.category == "empty-table"
    assert finding.location == origin


def test_examples_are_capped_with_a_count_of_the_rest(expectations_dir: Path, locate) -> None:
    n = 30
    table = raw_table(
        PMID=["PMID:1"] * n,
        individual_id=[f"P{i}" for i in range(n)],
        sex=["Z"] * n,
        disease_id=["OMIM:1"] * n,
        HGNC_id=[None] * n,
    )
    result = run_suite(RAW, table, locate=locate, expectations_dir=expectations_dir, max_examples=5)
    sexes = by_expectation(result.findings, "expect_column_values_to_be_in_set")
    rows = [f for f in sexes if not f.data.get("summary")]
    (summary,) = [f for f in sexes if f.data.get("summary")]
    assert [f.location.row for f in rows] == [2, 3, 4, 5, 6]
    assert summary.data["unexpected_count"] == n
    assert summary.data["omitted"] == n - 5
    assert summary.data["top_values"] == [{"value": "Z", "count": 5}]
    assert summary.location == Location(file="cases.xlsx", sheet="Cases", column="sex")
    assert "25 more rows" in summary.message


def test_tabular_suite_takes_expectations_built_at_run_time(expectations_dir: Path) -> None:
    table = pa.table({"Patient": ["a", "b", None], "HPO": ["HP:0001250", "seizure", "HP:1"]})
    extra = [
        {"type": "expect_column_to_exist", "kwargs": {"column": "Patient"}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "Patient"}},
        {
            "type": "expect_column_values_to_match_regex",
            "kwargs": {"column": "HPO", "regex": r"^HP:\d{7}$"},
            "meta": {"level": "warning", "category": "hpo-label", "hint": "use an HPO id"},
        },
    ]
    result = run_suite(
        "raw/tabular",
        table,
        locate=sheet_locator("cases.tsv", None),
        expectations_dir=expectations_dir,
        extra=extra,
    )
    assert result.validator == "gx:raw/tabular"
    errors = [f for f in result.findings if f.level == "error"]
    warnings = [f for f in result.findings if f.level == "warning"]
    assert [(f.location.row, f.location.column, f.category) for f in errors] == [
        (4, "Patient", "expect_column_values_to_not_be_null")  # category defaults to the type
    ]
    assert [(f.location.row, f.location.value, f.hint) for f in warnings] == [
        (3, "seizure", "use an HPO id"),
        (4, "HP:1", "use an HPO id"),
    ]
    assert errors[0].location.sheet is None


def test_invalid_extra_expectation_is_a_configuration_error(expectations_dir: Path, locate) -> None:
    bad_kwargs = {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "sex"}}
    with pytest.raises(ConfigurationError, match="invalid"):
        run_suite(
            RAW, raw_table(), locate=locate, expectations_dir=expectations_dir, extra=[bad_kwargs]
        )
    bad_level = {
        "type": "expect_column_values_to_not_be_null",
        "kwargs": {"column": "sex"},
        "meta": {"level": "fatal"},
    }
    with pytest.raises(ConfigurationError, match="level"):
        run_suite(
            RAW, raw_table(), locate=locate, expectations_dir=expectations_dir, extra=[bad_level]
        )


def test_unknown_suite_names_the_known_ones(expectations_dir: Path, locate) -> None:
    with pytest.raises(ConfigurationError) as info:
        run_suite("raw/nope", raw_table(), locate=locate, expectations_dir=expectations_dir)
    assert info.value.hint and "raw/tabular" in info.value.hint


def test_suite_given_as_a_path(tmp_path: Path, expectations_dir: Path, locate) -> None:
    suite = tmp_path / "mine.json"
    suite.write_text(
        '{"name": "local/mine", "expectations": [{"type": "expect_column_values_to_be_in_set",'
        ' "kwargs": {"column": "sex", "value_set": ["M"]}, "meta": {"level": "info"}}]}'
    )
    result = run_suite(suite, raw_table(), locate=locate, expectations_dir=expectations_dir)
    assert result.validator == "gx:local/mine"
    assert [f.location.row for f in result.findings] == [3, 4, 5]
    assert {f.level for f in result.findings} == {"info"}
    assert result.success  # info findings do not fail a run


def test_context_is_built_once(expectations_dir: Path, locate) -> None:
    run_suite(RAW, raw_table(), locate=locate, expectations_dir=expectations_dir)
    first = batch_definition()
    run_suite(RAW, raw_table(), locate=locate, expectations_dir=expectations_dir)
    assert batch_definition() is first


# --------------------------------------------------------------------------- harmonized


def source_locator(table: pa.Table):
    """Harmonized rows carry their own lineage: point at the submitter's cell."""

    def locate(i: int) -> Location:
        row = {c: table.column(c)[i].as_py() for c in table.column_names}
        return Location(
            file=row["source_file"],
            sheet=row["source_sheet"],
            row=row["source_row"],
            column=row.get("source_column"),
            phenopacket_id=row["phenopacket_id"],
        )

    return locate


def harmonized(name: str, rows: list[dict[str, object]]) -> pa.Table:
    lineage = [
        {"source_file": "cases.xlsx", "source_sheet": "Cases", "source_row": i + 2, **r}
        for i, r in enumerate(rows)
    ]
    return conform(name, pa.Table.from_pylist(lineage, schema=SCHEMAS[name]))


def run_harmonized(name: str, table: pa.Table, expectations_dir: Path):
    return run_suite(
        f"harmonized/{name}",
        table,
        locate=source_locator(table),
        expectations_dir=expectations_dir,
    )


CLEAN = {
    "individuals": [
        {"phenopacket_id": "p1", "sex": "FEMALE", "age_at_last_encounter": "P3Y6M"},
        {"phenopacket_id": "p2", "sex": "UNKNOWN_SEX", "age_at_last_encounter": None},
        {"phenopacket_id": "p3", "sex": "MALE", "age_at_last_encounter": "PT12H"},
    ],
    "phenotypic_features": [
        {"phenopacket_id": "p1", "term_id": "HP:0001250", "excluded": False, "onset_age": "P2Y"},
        {"phenopacket_id": "p1", "term_id": "HP:0000256", "excluded": True},
    ],
    "diseases": [{"phenopacket_id": "p1", "term_id": "OMIM:154700"}],
    "variants": [
        {"phenopacket_id": "p1", "allelic_state_id": "GENO:0000135"},
        {"phenopacket_id": "p2", "allelic_state_id": None},
    ],
    "measurements": [{"phenopacket_id": "p1", "value": 12.5}],
    "procedures": [{"phenopacket_id": "p1", "term_id": "SNOMEDCT:80146002"}],
    "treatments": [{"phenopacket_id": "p1", "agent_id": "RXNORM:6809"}],
}


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_clean_harmonized_tables_pass(name: str, expectations_dir: Path) -> None:
    result = run_harmonized(name, harmonized(name, CLEAN[name]), expectations_dir)
    assert result.findings == []
    assert result.success


def test_harmonized_findings_point_at_the_source_cell(expectations_dir: Path) -> None:
    table = harmonized(
        "phenotypic_features",
        [
            {
                "phenopacket_id": "p1",
                "term_id": "HP:0001250",
                "excluded": False,
                "source_column": "Seizure",
            },
            {
                "phenopacket_id": "p1",
                "term_id": "HP:123",
                "excluded": None,
                "onset_age": "2 years",
                "source_column": "HPO terms",
            },
        ],
    )
    result = run_harmonized("phenotypic_features", table, expectations_dir)
    got = sorted(
        (f.category, f.location.row, f.location.column, f.location.value, f.data["table_column"])
        for f in result.findings
    )
    assert got == [
        ("invalid-age", 3, "HPO terms", "2 years", "onset_age"),
        ("invalid-identifier", 3, "HPO terms", "HP:123", "term_id"),
        ("missing-value", 3, "HPO terms", None, "excluded"),
    ]
    assert all(f.location.phenopacket_id == "p1" for f in result.findings)


def test_harmonized_individuals(expectations_dir: Path) -> None:
    rows = [
        {"phenopacket_id": f"p{i}", "sex": "FEMALE", "age_at_last_encounter": "P1Y"}
        for i in range(40)
    ]
    rows[3]["sex"] = "F"
    rows[4]["phenopacket_id"] = "p5"
    rows[6]["age_at_last_encounter"] = "P"  # 1 of 40 bad: tolerated by mostly=0.95
    result = run_harmonized("individuals", harmonized("individuals", rows), expectations_dir)
    got = sorted((f.level, f.category, f.location.row, f.location.value) for f in result.findings)
    assert got == [
        ("error", "duplicate-id", 6, "p5"),
        ("error", "duplicate-id", 7, "p5"),
        ("error", "invalid-value", 5, "F"),
        ("warning", "invalid-age", 8, "P"),
    ]


def test_harmonized_ages_fail_beyond_mostly(expectations_dir: Path) -> None:
    rows = [
        {"phenopacket_id": "p1", "sex": "MALE", "age_at_last_encounter": "P1Y"},
        {"phenopacket_id": "p2", "sex": "MALE", "age_at_last_encounter": "1 year"},
    ]
    result = run_harmonized("individuals", harmonized("individuals", rows), expectations_dir)
    (finding,) = result.findings
    assert (finding.level, finding.location.row, finding.location.value) == ("error", 3, "1 year")
    assert not result.success


def test_harmonized_diseases_variants_measurements(expectations_dir: Path) -> None:
    diseases = run_harmonized(
        "diseases",
        harmonized("diseases", [{"phenopacket_id": "p1", "term_id": "OMIM 154700"}]),
        expectations_dir,
    )
    assert [(f.category, f.location.value) for f in diseases.findings] == [
        ("invalid-identifier", "OMIM 154700")
    ]
    variants = run_harmonized(
        "variants",
        harmonized("variants", [{"phenopacket_id": "p1", "allelic_state_id": "heterozygous"}]),
        expectations_dir,
    )
    assert [(f.category, f.location.row, f.location.value) for f in variants.findings] == [
        ("invalid-zygosity", 2, "heterozygous")
    ]
    measurements = run_harmonized(
        "measurements",
        harmonized("measurements", [{"phenopacket_id": "p1", "value": None}]),
        expectations_dir,
    )
    assert [(f.category, f.location.row) for f in measurements.findings] == [("missing-value", 2)]


# --------------------------------------------------------------------------- data docs


def test_data_docs_written_when_asked(tmp_path: Path, expectations_dir: Path, locate) -> None:
    docs = tmp_path / "docs"
    table = raw_table(sex=["M", "<script>alert(1)</script>", "F", "U"])
    result = run_suite(
        RAW, table, locate=locate, expectations_dir=expectations_dir, data_docs_dir=docs
    )
    (page,) = result.data_docs
    path = Path(page)
    assert path.parent == docs
    assert path.name == "raw-hpo-case-template__cases.xlsx__Cases__rows-2-5.html"
    html = path.read_text(encoding="utf-8")
    assert "expect_column_values_to_be_in_set" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html
    assert "cdn" not in html.lower()
    assert not [p for p in docs.iterdir() if p.name.endswith(".tmp")]
