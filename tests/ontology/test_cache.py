"""The on-disk cache: warm loads skip pronto, stale or broken caches are rebuilt."""

from __future__ import annotations

import shutil
from pathlib import Path

import pronto
import pytest

from harmonize.errors import OntologyError
from harmonize.ontology import TermIndex
from harmonize.ontology.cache import cache_path
from harmonize.ontology.manifest import file_sha256

from .conftest import GENO_PATH, HP_PATH


def _no_pronto(*args: object, **kwargs: object) -> None:
    raise AssertionError("pronto was called although the index is cached")


def test_warm_load_does_not_call_pronto(
    hp: TermIndex, ontology_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cache_path(ontology_cache, "HP", hp.sha256).is_file()
    monkeypatch.setattr(pronto, "Ontology", _no_pronto)
    warm = TermIndex.load(HP_PATH, "HP", ontology_cache)
    assert warm.release == hp.release
    assert len(warm) == len(hp)
    assert warm.resolve("Seizures") == hp.resolve("Seizures")
    # the caller may pass the sha-256 it already verified
    assert len(TermIndex.load(HP_PATH, "HP", ontology_cache, sha256=hp.sha256)) == len(hp)


def test_cache_write_leaves_no_temp_files(tmp_path: Path) -> None:
    TermIndex.load(GENO_PATH, "GENO", tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [
        cache_path(tmp_path, "GENO", file_sha256(GENO_PATH)).name
    ]


def test_truncated_cache_is_rebuilt(tmp_path: Path) -> None:
    first = TermIndex.load(GENO_PATH, "GENO", tmp_path)
    cached = cache_path(tmp_path, "GENO", first.sha256)
    cached.write_bytes(cached.read_bytes()[:100])
    again = TermIndex.load(GENO_PATH, "GENO", tmp_path)
    assert len(again) == len(first)
    assert cached.stat().st_size > 100


def test_changed_file_gets_a_new_cache_entry(tmp_path: Path) -> None:
    copy = tmp_path / "geno.obo"
    shutil.copy(GENO_PATH, copy)
    cache = tmp_path / "cache"
    before = TermIndex.load(copy, "GENO", cache)
    copy.write_text(
        copy.read_text() + "\n[Term]\nid: GENO:0000602\nname: homoplasmic\n", encoding="utf-8"
    )
    after = TermIndex.load(copy, "GENO", cache)
    assert len(after) == len(before) + 1
    assert len(list(cache.iterdir())) == 2


def test_stated_version_must_match_the_file(tmp_path: Path) -> None:
    with pytest.raises(OntologyError, match="expected '2099-01-01'"):
        TermIndex.load(GENO_PATH, "GENO", tmp_path, version="2099-01-01")
    TermIndex.load(GENO_PATH, "GENO", tmp_path)  # now cached
    with pytest.raises(OntologyError, match="expected '2099-01-01'"):
        TermIndex.load(GENO_PATH, "GENO", tmp_path, version="2099-01-01")


def test_unparsable_file_is_an_ontology_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.obo"
    bad.write_text("format-version: 1.2\n\n[Term]\nid: X:1\nis_a: \n[[[", encoding="utf-8")
    with pytest.raises(OntologyError) as caught:
        TermIndex.build(bad, "X", version="1")
    assert caught.value.file == str(bad)
