"""The manifest pins every release by sha-256 and rejects anything else."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from harmonize.errors import OntologyError
from harmonize.ontology import load_manifest

from .conftest import ONTOLOGIES_DIR


def _small_copy(tmp_path: Path) -> Path:
    """The repository manifest without HPO releases (to keep copies small), plus the slices,
    the code lists and the Bioregistry prefixes."""
    raw = yaml.safe_load((ONTOLOGIES_DIR / "manifest.yaml").read_text(encoding="utf-8"))
    raw["ontologies"] = [e for e in raw["ontologies"] if e["prefix"] != "HP"]
    raw["previous_releases"] = []
    (tmp_path / "manifest.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    for entry in [*raw["ontologies"], *raw["code_lists"]]:
        if entry["file"]:
            shutil.copy(ONTOLOGIES_DIR / entry["file"], tmp_path / entry["file"])
    shutil.copy(ONTOLOGIES_DIR / "prefixes.yaml", tmp_path / "prefixes.yaml")
    return tmp_path


def test_repository_manifest_verifies() -> None:
    manifest = load_manifest(ONTOLOGIES_DIR)
    assert manifest.prefixes()[:3] == ["HP", "GENO", "NCIT"]
    hp = manifest.entry("HP")
    assert hp.version == "2025-01-16"
    assert hp.source == "http://purl.obolibrary.org/obo/hp/releases/2025-01-16/hp.obo"
    assert manifest.path("HP") == ONTOLOGIES_DIR / "hp-2025-01-16.obo"
    assert manifest.path("OMIM") is None
    assert manifest.entry("GENO").slice


def test_sha256_mismatch_raises(tmp_path: Path) -> None:
    directory = _small_copy(tmp_path)
    geno = directory / "geno-slice.obo"
    geno.write_text(geno.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    with pytest.raises(OntologyError) as caught:
        load_manifest(directory)
    err = caught.value
    assert err.file == str(geno)
    assert "expected sha256 603940b6" in err.message
    assert err.value in err.message  # the actual digest is named too
    assert err.hint and "update version, source and sha256" in err.hint
    assert not err.transient


def test_missing_file_raises(tmp_path: Path) -> None:
    directory = _small_copy(tmp_path)
    (directory / "ncit-slice.obo").unlink()
    with pytest.raises(OntologyError, match="NCIT release file is missing"):
        load_manifest(directory)


def test_missing_manifest_raises(tmp_path: Path) -> None:
    with pytest.raises(OntologyError, match="manifest not found"):
        load_manifest(tmp_path)


@pytest.mark.parametrize(
    "entry",
    [
        {"prefix": "X", "name": "x", "version": "1", "url": "u", "iri_prefix": "i"},
        {"prefix": "X", "name": "x", "version": "1", "url": "u", "iri_prefix": "i", "file": "x"},
        {
            "prefix": "X",
            "name": "x",
            "version": "1",
            "url": "u",
            "iri_prefix": "i",
            "id_pattern": "(",
        },
    ],
)
def test_invalid_entries_raise(tmp_path: Path, entry: dict[str, str]) -> None:
    (tmp_path / "manifest.yaml").write_text(yaml.safe_dump({"ontologies": [entry]}))
    with pytest.raises(OntologyError, match="manifest is invalid"):
        load_manifest(tmp_path)


def test_duplicate_prefix_raises(tmp_path: Path) -> None:
    entry = {
        "prefix": "X",
        "name": "x",
        "version": "1",
        "url": "u",
        "iri_prefix": "i",
        "id_pattern": ".*",
    }
    (tmp_path / "manifest.yaml").write_text(yaml.safe_dump({"ontologies": [entry, entry]}))
    with pytest.raises(OntologyError, match="listed twice"):
        load_manifest(tmp_path)
