"""``harmonize validate`` agrees with phenopacket-tools, the GA4GH reference validator.

Each case reproduces one of the reference's documented rules (its ``HpoAncestryValidator``,
``HpoUniqueValidator``, ``HpoPhenotypeValidator`` and ``MetaDataValidator``), and is either
valid or flagged with the offending term. The same files then go through the reference
validator itself (``../shared/tools/phenopacket-tools/pxf-validate``): a file has errors
in one exactly when it has errors in the other.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from harmonize.quality.validate import validate_files
from harmonize.settings import Settings
from tests.support.pxf import needs_pxf, pxf_errors

HP = {
    "id": "hp",
    "name": "human phenotype ontology",
    "url": "http://purl.obolibrary.org/obo/hp.owl",
    "version": "2025-01-16",
    "namespacePrefix": "HP",
    "iriPrefix": "http://purl.obolibrary.org/obo/HP_",
}
SEIZURE = ("HP:0001250", "Seizure")
SPASMS = ("HP:0012469", "Infantile spasms")  # a child of Seizure
OBSOLETE = ("HP:0000057", "obsolete Clitoromegaly")  # replaced by HP:0008665


def feature(term: tuple[str, str], excluded: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"type": {"id": term[0], "label": term[1]}}
    if excluded:
        out["excluded"] = True
    return out


def phenopacket(pid: str, *features: dict[str, Any], subject: bool = True) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": pid}
    if subject:
        doc["subject"] = {"id": f"{pid}-subject", "sex": "FEMALE"}
    doc["phenotypicFeatures"] = list(features)
    doc["metaData"] = {
        "created": "2024-05-01T12:00:00Z",
        "createdBy": "tester",
        "resources": [copy.deepcopy(HP)],
        "phenopacketSchemaVersion": "2.0.2",
    }
    return doc


def missing_resource() -> dict[str, Any]:
    doc = phenopacket("missing-resource", feature(SEIZURE))
    # the label HPO's annotations give (an abbreviation such as "APS1" is a label-mismatch)
    doc["diseases"] = [
        {"term": {"id": "OMIM:240300", "label": "Autoimmune polyendocrinopathy syndrome, type I"}}
    ]
    return doc


# name -> (document, expected: None for valid, else (level, category, offending value))
CASES: dict[str, tuple[dict[str, Any], tuple[str, str, str] | None]] = {
    "valid": (
        phenopacket("valid", feature(SEIZURE), feature(("HP:0001252", "Hypotonia"), True)),
        None,
    ),
    "no-subject": (phenopacket("no-subject", feature(SEIZURE), subject=False), None),
    "missing-resource": (missing_resource(), ("error", "missing-resource", "OMIM")),
    "obsolete": (
        phenopacket("obsolete", feature(OBSOLETE)),
        ("warning", "obsolete-term", OBSOLETE[0]),
    ),
    "observed-ancestor": (
        phenopacket("observed-ancestor", feature(SEIZURE), feature(SPASMS)),
        ("error", "redundant-ancestor", SEIZURE[0]),
    ),
    "excluded-child": (
        phenopacket("excluded-child", feature(SEIZURE, True), feature(SPASMS, True)),
        ("error", "redundant-exclusion", SPASMS[0]),
    ),
    "excluded-ancestor": (
        phenopacket("excluded-ancestor", feature(SEIZURE, True), feature(SPASMS)),
        ("error", "excluded-ancestor", SPASMS[0]),
    ),
    "listed-twice": (
        phenopacket("listed-twice", feature(SEIZURE), feature(SEIZURE)),
        ("error", "duplicate-term", SEIZURE[0]),
    ),
}


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("reference-cases")
    for name, (doc, _) in CASES.items():
        (folder / f"{name}.json").write_text(json.dumps(doc, indent=1))
    return folder


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, ontology_cache: Path) -> Settings:
    return Settings(workspace=tmp_path_factory.mktemp("ws"), ontology_cache=ontology_cache)


@pytest.mark.parametrize("name", list(CASES))
def test_validate_reproduces_the_reference_rule(name: str, cases: Path, settings: Settings) -> None:
    report = validate_files([cases / f"{name}.json"], settings)
    expected = CASES[name][1]
    flagged = [f for f in report.findings if f.level in ("error", "warning")]
    if expected is None:
        assert flagged == [], [f.message for f in flagged]
        return
    level, category, value = expected
    assert [(f.level, f.category) for f in flagged] == [(level, category)], [
        f.message for f in flagged
    ]
    assert flagged[0].location.value == value


def _pxf_errors(folder: Path) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for row in pxf_errors(folder, exit_codes=(0, 1)):
        errors.setdefault(Path(row[0]).stem, []).append(row[4])
    return errors


@needs_pxf
def test_validate_and_the_reference_flag_the_same_files(cases: Path, settings: Settings) -> None:
    reference = _pxf_errors(cases)
    ours = {
        name
        for name in CASES
        if validate_files([cases / f"{name}.json"], settings).counts()["error"]
    }
    assert ours == set(reference), reference
    # the reference names the offending terms as we do
    assert any(SPASMS[0] in m for m in reference["excluded-child"])
    assert any(SEIZURE[0] in m for m in reference["observed-ancestor"])
