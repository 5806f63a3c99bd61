"""Disease columns of the ``tabular`` profile: codes, labels, both, value maps, lists."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harmonize.mapping.profiles import tabular_diseases
from harmonize.mapping.profiles.tabular_diseases import register_name_list, split_code
from harmonize.ontology import Ontologies, Resolution
from harmonize.quality.schema import schema_errors
from harmonize.settings import Settings
from tests.support import pxf

from .conftest import run_ingest, write_submission

MAPPING = """\
id_column: id
sex: {column: sex, values: {f: FEMALE, m: MALE}}
diseases:
  - column: diagnoses
    prefix: ICD10
    separator: ";"
    values:
      "alzheimer's disease": ICD10:G30.9
      sugar: ICD10:E11
  - column: omim
"""

CSV = (
    "id,sex,diagnoses,omim\n"
    'p1,f,"E11 Type 2 diabetes mellitus; alzheimer\'s disease",OMIM:615032\n'
    "p2,m,ICD10:G30.9 Alzheimer disease,\n"
    "p3,f,i10; SUGAR,OMIM:615032 Intellectual developmental disorder autosomal dominant 62\n"
)


def submit(tmp_path: Path, csv: str, mapping: str = MAPPING, sid: str = "dx") -> Path:
    return write_submission(
        tmp_path / sid,
        submission_id=sid,
        files={"cases.csv": csv, "mapping.yaml": mapping},
        mapping="mapping.yaml",
    )


@pytest.mark.parametrize(
    ("cell", "parts"),
    [
        ("E11", ("E11", None)),
        ("E11 Type 2 diabetes mellitus", ("E11", "Type 2 diabetes mellitus")),
        ("E11: Type 2", ("E11", "Type 2")),
        ("OMIM:615032 \u2013 IDD", ("OMIM:615032", "IDD")),
        ("  I10  ", ("I10", None)),
    ],
)
def test_split_code(cell: str, parts: tuple[str, str | None]) -> None:
    assert split_code(cell) == parts


def test_codes_labels_and_both_in_one_cell(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    out = run_ingest(submit(tmp_path, CSV), settings())
    assert out.result.status == "published", out.report["findings"]
    got = {
        (r["phenopacket_id"], r["term_id"], r["term_label"], r["source_column"])
        for r in out.rows("diseases")
    }
    assert got == {
        ("p1", "ICD10:E11", "Type 2 diabetes mellitus", "diagnoses"),
        # no label given: the code list's label fills it (WHO ICD-10, HPO's phenotype.hpoa)
        ("p1", "ICD10:G30.9", "Alzheimer disease, unspecified", "diagnoses"),  # the value map
        (
            "p1",
            "OMIM:615032",
            "Intellectual developmental disorder with autism and macrocephaly",
            "omim",
        ),
        ("p2", "ICD10:G30.9", "Alzheimer disease", "diagnoses"),  # the submitter's label kept
        ("p3", "ICD10:I10", "Essential (primary) hypertension", "diagnoses"),  # bare, upper-cased
        ("p3", "ICD10:E11", "Type 2 diabetes mellitus", "diagnoses"),  # value maps ignore case
        ("p3", "OMIM:615032", "Intellectual developmental disorder autosomal dominant 62", "omim"),
    }
    docs = out.documents()
    terms = [d["term"] for d in docs["p1"]["diseases"]]
    assert terms[0] == {"id": "ICD10:E11", "label": "Type 2 diabetes mellitus"}
    prefixes = {r["namespacePrefix"] for r in docs["p1"]["metaData"]["resources"]}
    assert {"ICD10", "OMIM"} <= prefixes
    for pid, doc in docs.items():
        assert schema_errors(doc) == [], pid
    if pxf.available():
        assert pxf.pxf_errors(out.phenopackets_dir) == []


def test_a_label_without_a_name_list_is_an_error_citing_a_disease_code(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    csv = "id,sex,diagnoses,omim\np1,f,Type 2 diabetes mellitus,alzheimer's disease\n"
    out = run_ingest(submit(tmp_path, csv), settings())
    assert out.result.status == "rejected"
    found = {f["location"]["column"]: f for f in out.findings("unresolvable-label")}
    assert set(found) == {"diagnoses", "omim"}
    icd = found["diagnoses"]
    assert (icd["location"]["row"], icd["location"]["value"]) == (2, "Type 2 diabetes mellitus")
    assert "no ICD10 name list is installed" in icd["message"]
    assert "E11 or ICD10:E11" in icd["hint"] and "'values'" in icd["hint"]
    assert "no 'prefix'" in found["omim"]["message"]
    for f in out.report["findings"]:  # no disease message cites an HPO id
        assert "HP:" not in f["message"] + (f["hint"] or ""), f


class Names:
    """A small name list standing in for a real code list (the ``codes`` work fills these)."""

    def __init__(self, names: dict[str, tuple[str, str]]) -> None:
        self.names = names

    def lookup(self, label: str) -> Resolution | None:
        hit = self.names.get(label.strip().lower())
        if hit is not None:
            return Resolution(hit[0], hit[1], "label", 1.0, "ICD10 2019")
        if label.strip().lower() == "hypertension essential":  # word order: a weak match
            return Resolution("ICD10:I10", "Essential hypertension", "fuzzy", 0.6, "ICD10 2019")
        return None


@pytest.fixture
def icd_names() -> Iterator[None]:
    names = Names({"essential (primary) hypertension": ("ICD10:I10", "Essential hypertension")})
    register_name_list("ICD10", lambda ontologies: names)
    yield
    tabular_diseases._NAME_LISTS.pop("ICD10")


def test_a_label_resolves_through_a_registered_name_list_with_evidence(
    tmp_path: Path, settings: Callable[..., Settings], icd_names: None, ontologies: Ontologies
) -> None:
    csv = (
        "id,sex,diagnoses,omim\n"
        "p1,f,Essential (primary) hypertension,\n"
        "p2,m,essential (primary) hypertension; no such disease,\n"
    )
    out = run_ingest(submit(tmp_path, csv), settings(unmapped_policy="flag"))
    assert out.result.status == "published", out.report["findings"]
    rows = {(r["phenopacket_id"], r["term_id"]) for r in out.rows("diseases")}
    assert rows == {("p1", "ICD10:I10"), ("p2", "ICD10:I10")}
    evidence = {m["raw"]: m for m in out.report["mappings"]}
    assert set(evidence) == {"Essential (primary) hypertension", "essential (primary) hypertension"}
    first = evidence["Essential (primary) hypertension"]
    assert (first["term_id"], first["method"], first["release"]) == (
        "ICD10:I10",
        "label",
        "ICD10 2019",
    )
    assert (first["file"], first["row"], first["column"]) == ("cases.csv", 2, "diagnoses")
    [miss] = out.findings("unmapped-term")
    assert miss["level"] == "warning"  # the unmapped-term policy decides, as for phenotypes
    assert (miss["location"]["row"], miss["location"]["value"]) == (3, "no such disease")


def test_variants_explain_the_first_disease_of_the_row(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    mapping = MAPPING + "variants: {hgvs_column: variant, zygosity_column: zyg}\n"
    csv = "id,sex,diagnoses,omim,variant,zyg\np1,f,E11 Diabetes; G30.9,,NM_1.2:c.3A>G,het\n"
    out = run_ingest(submit(tmp_path, csv, mapping), settings())
    assert out.result.status == "published", out.report["findings"]
    [variant] = out.rows("variants")
    assert (variant["disease_id"], variant["disease_label"]) == ("ICD10:E11", "Diabetes")


def test_a_weak_name_list_match_is_held_for_review_or_accepted_with_a_warning(
    tmp_path: Path, settings: Callable[..., Settings], icd_names: None
) -> None:
    csv = "id,sex,diagnoses,omim\np1,f,Hypertension essential,\n"
    held = run_ingest(submit(tmp_path, csv), settings())
    assert held.result.status == "rejected"
    [review] = held.findings("needs-review", "error")
    assert (review["location"]["row"], review["location"]["column"]) == (2, "diagnoses")
    assert review["data"]["term_id"] == "ICD10:I10" and review["data"]["method"] == "fuzzy"
    taken = run_ingest(submit(tmp_path / "accept", csv), settings(low_confidence="accept"))
    assert taken.result.status == "published", taken.report["findings"]
    [warning] = taken.findings("inexact-term-match", "warning")
    assert warning["location"]["value"] == "Hypertension essential"
    assert [r["term_id"] for r in taken.rows("diseases")] == ["ICD10:I10"]
