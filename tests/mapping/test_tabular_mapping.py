"""The ``tabular`` profile on small submissions of our own: label policies, ages, the
mapping YAML and its errors (the sample cohort is in ``test_tabular.py``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harmonize.drs.registry import Registry
from harmonize.errors import ConfigurationError
from harmonize.mapping.profiles.mapping_file import load_mapping
from harmonize.mapping.profiles.tabular import age_converter
from harmonize.ontology import TermIndex
from harmonize.quality.schema import schema_errors
from harmonize.settings import Settings
from tests.support import pxf

from .conftest import Outcome, run_ingest, write_submission

SEIZURE = "HP:0001250"
MACROCEPHALY = "HP:0000256"
HYPOTONIA = "HP:0001252"

LIST_MAPPING = """\
id_column: id
sex: {column: sex, values: {f: FEMALE, m: MALE}}
phenotypes:
  - column: symptoms
    separator: ";"
    excluded_prefix: "NOT "
"""


def submit(tmp_path: Path, sid: str, csv: str, mapping: str = LIST_MAPPING) -> Path:
    return write_submission(
        tmp_path / sid,
        submission_id=sid,
        files={"cases.csv": csv, "mapping.yaml": mapping},
        mapping="mapping.yaml",
    )


def assert_nothing_published(outcome: Outcome) -> None:
    assert not outcome.phenopackets_dir.exists()
    assert outcome.table("individuals").num_rows == 0
    assert not (outcome.settings.published_dir / "inputs" / outcome.sid).exists()
    assert Registry(outcome.settings.registry).objects_for_submission(outcome.sid) == []


def test_messy_labels_and_synonyms_are_mapped_with_evidence(
    tmp_path: Path, settings: Callable[..., Settings], hp: TermIndex
) -> None:
    csv = (
        "id,sex,symptoms\n"
        "p1,f,MACROCEPHALY; Muscular hypotonia; Intellectual disabilities\n"
        'p2,m,"Seizures, epileptic; Large head"\n'
    )
    held = run_ingest(submit(tmp_path, "messy", csv), settings())
    assert held.result.status == "rejected"  # one match is too weak to take unreviewed
    assert [f["location"]["value"] for f in held.findings("needs-review")] == [
        "Seizures, epileptic"
    ]
    out = run_ingest(submit(tmp_path / "accept", "messy", csv), settings(low_confidence="accept"))
    assert out.result.status == "published", out.report["findings"]
    expected = {
        "MACROCEPHALY": (MACROCEPHALY, "normalized", 2),
        "Muscular hypotonia": (HYPOTONIA, "synonym", 2),
        "Intellectual disabilities": ("HP:0001249", "normalized", 2),
        "Seizures, epileptic": (SEIZURE, "normalized", 3),
        "Large head": (MACROCEPHALY, "synonym", 3),
    }
    got = {m["raw"]: (m["term_id"], m["method"], m["row"]) for m in out.report["mappings"]}
    assert got == expected
    for m in out.report["mappings"]:
        assert 0 < m["score"] < 1
        assert m["column"] == "symptoms" and m["file"] == "cases.csv"
        code = hp.code(m["term_id"])
        assert code is not None and m["label"] == hp.label(code)
    assert {f["location"]["value"] for f in out.findings("inexact-term-match")} == set(expected)
    raw = {
        (r["phenopacket_id"], r["raw_value"]): r["term_id"] for r in out.rows("phenotypic_features")
    }
    assert raw[("p2", "Large head")] == MACROCEPHALY


def test_misspelled_label_is_held_for_review_with_its_cell(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    """A typo matches only fuzzily: low confidence, so the submission waits for a curator."""
    csv = "id,sex,symptoms\np1,f,Macrocephally; Seizures\n"
    out = run_ingest(submit(tmp_path, "typo", csv), settings())
    assert out.result.status == "rejected"
    assert_nothing_published(out)
    [held] = out.findings("needs-review", "error")
    loc = held["location"]
    assert (loc["file"], loc["row"], loc["column"], loc["value"]) == (
        "cases.csv",
        2,
        "symptoms",
        "Macrocephally",
    )
    assert held["data"]["method"] == "fuzzy" and held["data"]["term_id"] == "HP:0000256"
    assert held["data"]["review_item"] is not None
    # every mapping is listed with its evidence, the fuzzy one included
    evidence = {m["raw"]: (m["term_id"], m["method"]) for m in out.report["mappings"]}
    assert evidence == {"Macrocephally": ("HP:0000256", "fuzzy"), "Seizures": (SEIZURE, "synonym")}


def test_misspelled_label_is_accepted_with_a_warning_when_the_centre_allows(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    csv = "id,sex,symptoms\np1,f,Macrocephally; Seizures\n"
    out = run_ingest(submit(tmp_path, "typo", csv), settings(low_confidence="accept"))
    assert out.result.status == "published"
    [warning] = out.findings("inexact-term-match", "warning")
    assert warning["location"]["value"] == "Macrocephally"
    assert sorted(f["term_id"] for f in out.rows("phenotypic_features")) == ["HP:0000256", SEIZURE]


UNMAPPABLE = "id,sex,symptoms\np1,f,Seizure\np2,m,Hypotonia; zzzz not a phenotype\n"


def test_unmappable_label_rejects_by_default(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    out = run_ingest(submit(tmp_path, "unmappable", UNMAPPABLE), settings())
    assert out.result.status == "rejected"
    assert out.report["status"] == "rejected"
    [miss] = out.findings("unmapped-term")
    assert miss["level"] == "error"
    loc = miss["location"]
    assert (loc["file"], loc["row"], loc["column"], loc["value"]) == (
        "cases.csv",
        3,
        "symptoms",
        "zzzz not a phenotype",
    )
    assert "zzzz not a phenotype" in miss["message"]
    # the report of a rejected submission still shows what did map, and how
    assert {(m["raw"], m["term_id"], m["method"]) for m in out.report["mappings"]} == {
        ("Seizure", SEIZURE, "label"),
        ("Hypotonia", HYPOTONIA, "label"),
    }
    assert_nothing_published(out)


@pytest.mark.parametrize(("policy", "level"), [("flag", "warning"), ("drop", "info")])
def test_unmappable_label_publishes_under_flag_and_drop(
    tmp_path: Path, settings: Callable[..., Settings], policy: str, level: str
) -> None:
    out = run_ingest(submit(tmp_path, policy, UNMAPPABLE), settings(unmapped_policy=policy))
    assert out.result.status == "published"
    [miss] = out.findings("unmapped-term")
    assert miss["level"] == level
    assert miss["location"]["value"] == "zzzz not a phenotype"
    features = {(f["phenopacket_id"], f["term_id"]) for f in out.rows("phenotypic_features")}
    assert features == {("p1", SEIZURE), ("p2", HYPOTONIA)}
    assert Registry(out.settings.registry).objects_for_submission(out.sid)


def test_mapping_naming_a_missing_column_rejects(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    mapping = LIST_MAPPING + "age_at_last_encounter: {column: age_years, format: years}\n"
    out = run_ingest(
        submit(tmp_path, "nocolumn", "id,sex,symptoms\np1,f,Seizure\n", mapping), settings()
    )
    assert out.result.status == "rejected"
    [error] = out.findings("MappingError")
    assert "age_years" in error["message"]
    assert error["location"]["column"] == "age_years"
    assert error["location"]["file"] == "cases.csv"
    assert_nothing_published(out)


@pytest.mark.parametrize(
    ("mapping", "field"),
    [
        (LIST_MAPPING.replace("separator", "seperator"), "phenotypes.0.seperator"),
        (LIST_MAPPING + "colour: blue\n", "colour"),
        (LIST_MAPPING + "age_at_last_encounter: {column: id, format: decades}\n", "format"),
    ],
)
def test_bad_mapping_yaml_rejects_naming_the_field(
    tmp_path: Path, settings: Callable[..., Settings], mapping: str, field: str
) -> None:
    out = run_ingest(
        submit(tmp_path, "badmapping", "id,sex,symptoms\np1,f,Seizure\n", mapping), settings()
    )
    assert out.result.status == "rejected"
    [error] = out.findings("ConfigurationError")
    assert field in error["message"]
    assert error["location"]["file"] == "mapping.yaml"
    assert_nothing_published(out)


def test_ages_in_months(tmp_path: Path, settings: Callable[..., Settings]) -> None:
    mapping = """\
id_column: id
age_at_last_encounter: {column: age, format: months}
diseases:
  - column: disease
    onset: {column: onset, format: months}
"""
    csv = "id,age,disease,onset\na,18,OMIM:615032,6\nb,7.5,OMIM:615032,0\nc,2 years,OMIM:615032,\n"
    out = run_ingest(submit(tmp_path, "months", csv, mapping), settings())
    assert out.result.status == "published", out.report["findings"]
    ages = {r["phenopacket_id"]: r["age_at_last_encounter"] for r in out.rows("individuals")}
    assert ages == {"a": "P18M", "b": "P8M", "c": "P2Y"}
    onsets = {r["phenopacket_id"]: r["onset_age"] for r in out.rows("diseases")}
    assert onsets == {"a": "P6M", "b": "P0M", "c": None}
    docs = out.documents()
    assert docs["a"]["subject"]["timeAtLastEncounter"] == {"age": {"iso8601duration": "P18M"}}


def test_unreadable_age_is_a_finding_not_a_crash(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    mapping = "id_column: id\nage_at_last_encounter: {column: age, format: years}\n"
    out = run_ingest(
        submit(tmp_path, "badage", "id,age\na,inf\nb,-3\nc,five\n", mapping), settings()
    )
    assert out.result.status == "rejected"
    bad = {f["location"]["value"]: f["location"]["row"] for f in out.findings("malformed-age")}
    assert bad == {"inf": 2, "-3": 3, "five": 4}


# -- units --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "value", "iso"),
    [
        ("years", "4.5", "P4Y6M"),
        ("years", "7", "P7Y"),
        ("years", "0.25", "P0Y3M"),
        ("years", "4.99", "P5Y"),  # not P4Y12M
        ("years", "3 months", "P3M"),
        ("months", "18", "P18M"),
        ("months", "6.5", "P7M"),
        ("weeks", "3", "P3W"),
        ("days", "10", "P10D"),
        ("iso8601", "p3y6m", "P3Y6M"),
        ("years", "inf", None),
        ("years", "1e400", None),
        ("months", "-1", None),
        ("months", "soon", None),
    ],
)
def test_age_converter(fmt: str, value: str, iso: str | None) -> None:
    assert age_converter(fmt)(value) == iso


def test_mapping_yaml_yes_no_keys_stay_text(tmp_path: Path) -> None:
    """YAML 1.1 reads ``yes``/``no``/``on``/``off`` as booleans; a cell holds the text."""
    path = tmp_path / "mapping.yaml"
    path.write_text(
        "id_column: 2024\n"
        "sex: {column: s, values: {1: MALE, 2: FEMALE}}\n"
        "phenotypes:\n"
        "  - {column: sz, term: HP:0001250, values: {yes: observed, no: excluded, off: na}}\n"
        "  - {column: ht, term: HP:0001252, values: {true: observed, false: excluded}}\n"
    )
    m = load_mapping(path)
    assert m.id_column == "2024"
    assert m.sex is not None and m.sex.values == {"1": "MALE", "2": "FEMALE"}
    assert m.phenotypes[0].values == {"yes": "observed", "no": "excluded", "off": "na"}
    assert m.phenotypes[1].values == {"true": "observed", "false": "excluded"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "mapping: "),
        ("- id_column: id\n", "mapping: "),
        ("id_column: [id\n", "cannot read mapping file"),
        ("id_column: id\nphenotypes:\n  - {column: x}\n", "give either 'term' or 'separator'"),
    ],
)
def test_load_mapping_errors(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text(text)
    with pytest.raises(ConfigurationError) as err:
        load_mapping(path)
    assert expected in err.value.message
    assert err.value.file == "mapping.yaml"


def test_a_row_with_no_term_lists_the_hpo_release_and_passes_the_schema(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    """A row with only an id and sex became a Phenopacket with an empty
    ``metaData.resources``, which the v2 JSON Schema refuses (``minItems: 1``); it now lists
    the pinned HPO release its phenotype column was checked against."""
    csv = "id,sex,symptoms\np1,f,\np2,m,Seizure\n"
    out = run_ingest(submit(tmp_path, "noterm", csv), settings())
    assert out.result.status == "published", out.report["findings"]
    docs = out.documents()
    bare = docs["p1"]
    assert set(bare) == {"id", "subject", "metaData"}
    [hp] = bare["metaData"]["resources"]
    assert (hp["namespacePrefix"], hp["version"]) == ("HP", "2025-01-16")
    assert docs["p2"]["metaData"]["resources"] == [hp]  # as any document naming an HPO term
    for pid, doc in docs.items():
        assert schema_errors(doc) == [], pid
    if pxf.available():
        assert pxf.pxf_errors(out.phenopackets_dir) == []
