"""The ``tabular`` profile end to end: a CSV and a mapping YAML through ``ingest``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harmonize.drs.registry import Registry
from harmonize.errors import ConfigurationError
from harmonize.mapping.profiles.mapping_file import load_mapping
from harmonize.mapping.profiles.phenopacket import parse_errors
from harmonize.mapping.profiles.tabular import age_converter
from harmonize.ontology import Ontologies, TermIndex
from harmonize.quality.schema import schema_errors
from harmonize.settings import Settings
from tests.support import pxf

from .conftest import SUBMISSIONS, Outcome, new_workspace, run_ingest, write_submission

CLINIC = SUBMISSIONS / "clinic-tabular"
SEIZURE = "HP:0001250"
MACROCEPHALY = "HP:0000256"
HYPOTONIA = "HP:0001252"


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory, ontologies: Ontologies) -> Outcome:
    """The sample clinic export, ingested once, with Great Expectations on."""
    workspace = new_workspace(tmp_path_factory.mktemp("clinic"), ontologies)
    return run_ingest(CLINIC, Settings(workspace=workspace, data_docs=False))


def by_pid(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(row["phenopacket_id"], []).append(row)
    return out


def mapping_of(outcome: Outcome, raw: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [m for m in outcome.report["mappings"] if m["raw"] == raw]
    assert len(found) == 1, f"{raw!r} in {outcome.report['mappings']}"
    return found[0]


# -- the sample submission -------------------------------------------------------------


def test_clinic_sample_is_published_with_great_expectations(clinic: Outcome) -> None:
    assert clinic.result.status == "published", clinic.report["findings"]
    assert clinic.sid == "clinic-2026-11"
    assert clinic.report["status"] == "published"
    assert clinic.result.findings["error"] == 0
    assert "gx:raw/tabular" in clinic.report["validators"]
    assert "gx:harmonized/phenotypic_features" in clinic.report["validators"]
    registered = Registry(clinic.settings.registry).objects_for_submission(clinic.sid)
    assert registered
    assert {o.name for o in registered} >= {"clinic_CL-001.json", "clinic_export.csv"}
    assert "mapping/mapping.yaml" in {o.name for o in registered}  # lineage: the mapping too


def test_clinic_individuals(clinic: Outcome) -> None:
    rows = {r["subject_id"]: r for r in clinic.rows("individuals")}
    assert len(rows) == 6
    assert clinic.result.counts["individuals"] == 6
    assert {k: r["sex"] for k, r in rows.items()} == {
        "CL-001": "FEMALE",
        "CL-002": "MALE",
        "CL-003": "MALE",
        "CL-004": "FEMALE",
        "CL-005": "MALE",
        "CL-006": "FEMALE",
    }
    assert {k: r["age_at_last_encounter"] for k, r in rows.items()} == {
        "CL-001": "P7Y",
        "CL-002": "P12Y",
        "CL-003": "P4Y6M",  # 4.5 years
        "CL-004": "P15Y",
        "CL-005": "P9Y",
        "CL-006": "P6Y",
    }
    assert {k for k, r in rows.items() if r["vital_status"] == "DECEASED"} == {"CL-005"}
    assert {r["vital_status"] for k, r in rows.items() if k != "CL-005"} == {"ALIVE"}
    assert rows["CL-003"]["phenopacket_id"] == "clinic_CL-003"
    assert rows["CL-003"]["source_file"] == "clinic_export.csv"
    assert rows["CL-003"]["source_row"] == 4  # the header is row 1

    docs = clinic.documents()
    assert len(docs) == 6
    subject = docs["clinic_CL-003"]["subject"]
    assert subject == {
        "id": "CL-003",
        "timeAtLastEncounter": {"age": {"iso8601duration": "P4Y6M"}},
        "vitalStatus": {"status": "ALIVE"},
        "sex": "MALE",
    }
    assert docs["clinic_CL-005"]["subject"]["vitalStatus"] == {"status": "DECEASED"}


def test_clinic_documents_are_valid_phenopackets(clinic: Outcome) -> None:
    for pid, doc in clinic.documents().items():
        assert parse_errors(json.dumps(doc)) is None, pid
        prefixes = {r["namespacePrefix"] for r in doc["metaData"]["resources"]}
        assert {"HP", "OMIM", "HGNC", "GENO"} <= prefixes


def test_list_column_resolves_synonyms_and_case_with_evidence(clinic: Outcome) -> None:
    seizures = mapping_of(clinic, "Seizures")
    assert (seizures["term_id"], seizures["label"]) == (SEIZURE, "Seizure")
    assert (seizures["method"], seizures["score"]) == ("synonym", 0.95)
    hypotonia = mapping_of(clinic, "Muscle hypotonia")
    assert (hypotonia["term_id"], hypotonia["label"]) == (HYPOTONIA, "Hypotonia")
    assert (hypotonia["method"], hypotonia["score"]) == ("synonym", 0.95)
    lower = mapping_of(clinic, "macrocephaly")
    assert (lower["term_id"], lower["method"], lower["score"]) == (MACROCEPHALY, "normalized", 0.9)
    for m in (seizures, hypotonia, lower):
        assert m["file"] == "clinic_export.csv"
        assert m["row"] == 4
        assert m["column"] == "symptoms"
        assert m["release"] == "HP 2025-01-16"
    exact = mapping_of(clinic, "Macrocephaly")
    assert (exact["method"], exact["score"], exact["count"]) == ("label", 1.0, 3)

    # inexact matches are findings too, pointing at the cell
    inexact = {f["location"]["value"]: f for f in clinic.findings("inexact-term-match")}
    assert set(inexact) == {"Seizures", "Muscle hypotonia", "macrocephaly", "Sleep disturbance"}
    assert inexact["macrocephaly"]["level"] == "warning"  # score below 0.95
    assert inexact["Seizures"]["location"]["column"] == "symptoms"

    features = by_pid(clinic.rows("phenotypic_features"))["clinic_CL-003"]
    got = {(f["term_id"], f["raw_value"], f["resolution_method"]) for f in features}
    assert (HYPOTONIA, "Muscle hypotonia", "synonym") in got
    assert (MACROCEPHALY, "macrocephaly", "normalized") in got
    # 'Seizures' in the list repeats the seizures column: the first (the column) is kept
    assert [f["source_column"] for f in features if f["term_id"] == SEIZURE] == ["seizures"]
    assert any(f["location"]["row"] == 4 for f in clinic.findings("duplicate-term", "warning"))
    assert all(f["ontology_release"] == "HP 2025-01-16" for f in features)


def test_not_prefix_makes_an_excluded_feature(clinic: Outcome) -> None:
    features = by_pid(clinic.rows("phenotypic_features"))["clinic_CL-006"]
    macro = [f for f in features if f["term_id"] == MACROCEPHALY]
    assert len(macro) == 1
    assert macro[0]["excluded"] is True
    assert macro[0]["raw_value"] == "NOT Macrocephaly"
    assert macro[0]["term_label"] == "Macrocephaly"
    doc = clinic.documents()["clinic_CL-006"]
    assert {"type": {"id": MACROCEPHALY, "label": "Macrocephaly"}, "excluded": True} in doc[
        "phenotypicFeatures"
    ]


def test_one_term_column_yes_no(clinic: Outcome) -> None:
    features = by_pid(clinic.rows("phenotypic_features"))
    seizure = {
        pid: [f["excluded"] for f in rows if f["source_column"] == "seizures"]
        for pid, rows in features.items()
    }
    assert seizure == {
        "clinic_CL-001": [False],
        "clinic_CL-002": [True],
        "clinic_CL-003": [False],
        "clinic_CL-004": [True],
        "clinic_CL-005": [False],
        "clinic_CL-006": [True],
    }
    row = next(f for f in features["clinic_CL-002"] if f["source_column"] == "seizures")
    assert (row["term_id"], row["term_label"], row["raw_value"]) == (SEIZURE, "Seizure", "no")
    docs = clinic.documents()
    assert {"type": {"id": SEIZURE, "label": "Seizure"}} in docs["clinic_CL-001"][
        "phenotypicFeatures"
    ]
    assert {"type": {"id": SEIZURE, "label": "Seizure"}, "excluded": True} in docs["clinic_CL-002"][
        "phenotypicFeatures"
    ]
    assert clinic.result.counts["phenotypic_features"] == 20


def test_diseases(clinic: Outcome) -> None:
    rows = {r["phenopacket_id"]: r for r in clinic.rows("diseases")}
    assert len(rows) == 6
    assert {r["term_id"] for r in rows.values()} == {"OMIM:615032"}
    assert rows["clinic_CL-001"]["onset_age"] == "P2Y"
    assert rows["clinic_CL-006"]["onset_age"] is None
    disease = clinic.documents()["clinic_CL-001"]["diseases"][0]
    assert disease["term"]["id"] == "OMIM:615032"
    assert disease["onset"] == {"age": {"iso8601duration": "P2Y"}}


def test_measurement(clinic: Outcome) -> None:
    rows = {r["phenopacket_id"]: r for r in clinic.rows("measurements")}
    assert len(rows) == 5  # CL-005 has no value
    assert "clinic_CL-005" not in rows
    hb = rows["clinic_CL-001"]
    assert (hb["assay_id"], hb["value"], hb["unit_id"]) == ("LOINC:718-7", 12.1, "UCUM:g/dL")
    assert hb["assay_label"] == "Hemoglobin [Mass/volume] in Blood"
    assert hb["unit_label"] == "gram per deciliter"
    (measurement,) = clinic.documents()["clinic_CL-001"]["measurements"]
    assert measurement == {
        "assay": {"id": "LOINC:718-7", "label": "Hemoglobin [Mass/volume] in Blood"},
        "value": {
            "quantity": {"unit": {"id": "UCUM:g/dL", "label": "gram per deciliter"}, "value": 12.1}
        },
    }


def test_variants(clinic: Outcome) -> None:
    rows = {r["phenopacket_id"]: r for r in clinic.rows("variants")}
    assert len(rows) == 6
    hgvs = rows["clinic_CL-001"]
    assert hgvs["hgvs"] == "NM_001170629.2:c.2875C>T"
    assert hgvs["hgvs_syntax"] == "hgvs.c"
    assert hgvs["description"] is None
    assert (hgvs["allelic_state_id"], hgvs["allelic_state_label"]) == (
        "GENO:0000135",
        "heterozygous",
    )
    assert (hgvs["gene_id"], hgvs["gene_symbol"]) == ("HGNC:20153", "CHD8")
    free = rows["clinic_CL-005"]
    assert free["hgvs"] is None and free["hgvs_syntax"] is None
    assert free["description"] == "exon 3 deletion"

    docs = clinic.documents()
    [gi] = docs["clinic_CL-001"]["interpretations"][0]["diagnosis"]["genomicInterpretations"]
    vd = gi["variantInterpretation"]["variationDescriptor"]
    assert vd["expressions"] == [{"syntax": "hgvs.c", "value": "NM_001170629.2:c.2875C>T"}]
    assert vd["allelicState"] == {"id": "GENO:0000135", "label": "heterozygous"}
    assert vd["geneContext"] == {"valueId": "HGNC:20153", "symbol": "CHD8"}
    [gi] = docs["clinic_CL-005"]["interpretations"][0]["diagnosis"]["genomicInterpretations"]
    vd = gi["variantInterpretation"]["variationDescriptor"]
    assert "expressions" not in vd
    assert vd["label"] == "exon 3 deletion"


# -- small submissions of our own ------------------------------------------------------

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
