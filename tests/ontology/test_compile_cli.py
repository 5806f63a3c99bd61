"""``harmonize ontologies compile``: every pinned release's index lands in the cache."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import Result
from typer.testing import CliRunner

from harmonize.cli import app
from harmonize.ontology import TermIndex
from tests.ontology.conftest import ONTOLOGIES_DIR


def compile_into(cache: Path, ontologies_dir: Path = ONTOLOGIES_DIR) -> Result:
    return CliRunner().invoke(
        app,
        [
            "ontologies",
            "compile",
            "--cache-dir",
            str(cache),
            "--ontologies-dir",
            str(ontologies_dir),
        ],
    )


def test_compile_fills_the_cache_with_every_release(
    hp: TermIndex, ontology_cache: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    for compiled in ontology_cache.glob(f"HP-{hp.sha256}.*pickle"):  # HPO takes a minute:
        shutil.copy(compiled, cache)  # the session's
    result = compile_into(cache)
    assert result.exit_code == 0, result.output
    assert f"HP 2025-01-16: {len(hp):,} terms" in result.output
    assert "hpo-annotations 2025-01-16 (OMIM, ORPHA, DECIPHER): 12,687 codes" in result.output
    assert "icd10-who-2019 2019 (ICD10): " in result.output
    names = sorted(p.name.split("-")[0] for p in cache.glob("*.pickle"))
    # the slices and the code lists compiled now, HPO reused
    assert names == ["GENO", "HP", "NCIT", "codes", "codes"]


def test_a_missing_manifest_is_a_clear_error(tmp_path: Path) -> None:
    result = compile_into(tmp_path / "cache", tmp_path)
    assert result.exit_code == 1
    assert "error:" in result.output
