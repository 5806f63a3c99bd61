"""Shared fixtures: the real HPO release is compiled once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from harmonize.ontology import Ontologies, TermIndex

ONTOLOGIES_DIR = Path(__file__).resolve().parents[2] / "ontologies"
HP_PATH = ONTOLOGIES_DIR / "hp-2025-01-16.obo"
GENO_PATH = ONTOLOGIES_DIR / "geno-slice.obo"


@pytest.fixture(scope="session")
def ontology_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache directory shared by the whole session."""
    return tmp_path_factory.mktemp("ontology-cache")


@pytest.fixture(scope="session")
def hp(ontology_cache: Path) -> TermIndex:
    """HPO 2025-01-16, built with pronto once and cached in ``ontology_cache``."""
    return TermIndex.load(HP_PATH, "HP", ontology_cache)


@pytest.fixture(scope="session")
def ontologies(hp: TermIndex, ontology_cache: Path) -> Ontologies:
    """The repository's manifest; HPO comes from the cache ``hp`` filled."""
    return Ontologies.load(ONTOLOGIES_DIR, ontology_cache)
