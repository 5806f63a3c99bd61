"""Ontologies: the manifest's prefixes, lazily loaded indexes, CURIE checks, resources."""

from __future__ import annotations

from pathlib import Path

import pytest

from harmonize.errors import OntologyError
from harmonize.ontology import Ontologies, TermIndex

from .conftest import ONTOLOGIES_DIR


def test_prefixes_and_indexes(ontologies: Ontologies) -> None:
    assert ontologies.prefixes()[:3] == ["HP", "GENO", "NCIT"]
    assert {"OMIM", "ORPHA", "HGNC", "PMID"} <= set(ontologies.prefixes())
    assert ontologies.has_index("HP") and ontologies.has_index("GENO")
    assert not ontologies.has_index("OMIM") and not ontologies.has_index("NOPE")


def test_get_is_memoized_and_uses_the_cache(ontologies: Ontologies, hp: TermIndex) -> None:
    first = ontologies.get("HP")
    assert first is ontologies.get("HP")
    assert first.release == hp.release


def test_load_is_memoized_per_process(ontologies: Ontologies, ontology_cache: Path) -> None:
    assert Ontologies.load(ONTOLOGIES_DIR, ontology_cache) is ontologies


def test_get_without_a_file_raises(ontologies: Ontologies) -> None:
    with pytest.raises(OntologyError, match="without a release file"):
        ontologies.get("OMIM")
    with pytest.raises(OntologyError, match="not in the ontology manifest"):
        ontologies.get("NOPE")


@pytest.mark.parametrize(
    ("curie", "known"),
    [
        ("HP:0001250", True),
        ("HP:0001275", True),  # alt id
        ("HP:9999999", False),
        ("GENO:0000135", True),
        ("NCIT:C16576", True),
        ("OMIM:154700", True),
        ("OMIM:15470", False),
        ("ORPHA:558", True),
        ("HGNC:3603", True),
        ("HGNC:x", False),
        ("PMID:15816939", True),
        ("NOPE:1", False),
        ("HP0001250", False),
        ("OMIM:", False),
    ],
)
def test_check_curie(ontologies: Ontologies, curie: str, known: bool) -> None:
    assert ontologies.check_curie(curie) is known


def test_resource(ontologies: Ontologies) -> None:
    assert ontologies.resource("HP") == {
        "id": "hp",
        "name": "Human Phenotype Ontology",
        "url": "http://purl.obolibrary.org/obo/hp.owl",
        "version": "2025-01-16",
        "namespacePrefix": "HP",
        "iriPrefix": "http://purl.obolibrary.org/obo/HP_",
    }
    assert ontologies.resource("OMIM")["version"] == "unversioned"


def test_slices(ontologies: Ontologies) -> None:
    geno = ontologies.get("GENO")
    assert geno.version == "harmonize-slice-1"
    compound = geno.code("GENO:0000402")
    assert compound is not None
    assert [geno.term_id(int(c)) for c in geno.ancestors(compound)] == [
        "GENO:0000133",
        "GENO:0000135",
    ]
    found = ontologies.get("NCIT").resolve("female")
    assert found is not None and found.term_id == "NCIT:C16576"
