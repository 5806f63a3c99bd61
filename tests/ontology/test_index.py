"""TermIndex over the real HPO release: identity, vectorized lookups, hierarchy."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from harmonize.ontology import TermIndex


def _code(hp: TermIndex, term_id: str) -> int:
    code = hp.code(term_id)
    assert code is not None, term_id
    return code


def test_identity(hp: TermIndex) -> None:
    assert hp.prefix == "HP"
    assert hp.version == "2025-01-16"
    assert hp.release == "HP 2025-01-16"
    assert len(hp) == 19484  # primary ids in the release, obsolete ones included
    assert "HP:0001250" in hp and "HP:0001275" in hp
    assert "HP:9999999" not in hp and 5 not in hp


def test_scalar_lookups(hp: TermIndex) -> None:
    code = _code(hp, "HP:0001250")
    assert hp.term_id(code) == "HP:0001250"
    assert hp.label(code) == "Seizure"
    assert not hp.is_obsolete(code)
    assert hp.replaced_by(code) is None and hp.consider(code) == []
    assert hp.code("HP:9999999") is None


def test_codes_vectorized(hp: TermIndex) -> None:
    ids = pa.array(["HP:0001250", "HP:9999999", None, "HP:0001275", " HP:0012638 ", "junk"])
    codes = hp.codes(ids)
    assert isinstance(codes, pa.Int32Array)
    assert codes.null_count == 3
    assert codes.to_pylist() == [
        hp.code("HP:0001250"),
        None,
        None,
        hp.code("HP:0001250"),  # alt id maps to the primary's code
        hp.code("HP:0012638"),
        None,
    ]
    assert hp.ids_for(codes).to_pylist() == [
        "HP:0001250",
        None,
        None,
        "HP:0001250",
        "HP:0012638",
        None,
    ]
    assert hp.labels_for(codes).to_pylist()[0] == "Seizure"


def test_codes_accepts_lists_chunked_and_dictionary_arrays(hp: TermIndex) -> None:
    expected = [hp.code("HP:0001250"), None]
    assert hp.codes(["HP:0001250", "nope"]).to_pylist() == expected
    chunked = pa.chunked_array([["HP:0001250"], ["nope"]])
    assert hp.codes(chunked).to_pylist() == expected
    encoded = pa.array(["HP:0001250", "nope"]).dictionary_encode()
    assert hp.codes(encoded).to_pylist() == expected


def test_codes_on_a_large_batch(hp: TermIndex) -> None:
    rng = np.random.default_rng(7)
    pool = np.array(["HP:0001250", "HP:0002631", "HP:0001275", "HP:0000000x"])
    ids = pa.array(rng.choice(pool, 200_000))
    codes = hp.codes(ids)
    assert len(codes) == 200_000
    assert codes.null_count == int((ids.to_numpy(zero_copy_only=False) == "HP:0000000x").sum())


def test_obsolete_mask(hp: TermIndex) -> None:
    codes = hp.codes(["HP:0002631", "HP:0001250", None, "HP:0000489"])
    assert hp.obsolete_mask(codes).tolist() == [True, False, False, True]
    plain = np.array([_code(hp, "HP:0002631"), _code(hp, "HP:0001250")], dtype=np.int32)
    assert hp.obsolete_mask(plain).tolist() == [True, False]


def test_ancestors_of_seizure(hp: TermIndex) -> None:
    seizure = _code(hp, "HP:0001250")
    ancestors = {hp.term_id(int(c)) for c in hp.ancestors(seizure)}
    assert {"HP:0012638", "HP:0000707", "HP:0000118", "HP:0000001"} <= ancestors
    assert "HP:0001250" not in ancestors
    assert hp.ancestors(seizure).dtype == np.int32
    assert hp.is_ancestor(_code(hp, "HP:0012638"), seizure)
    assert not hp.is_ancestor(seizure, _code(hp, "HP:0012638"))
    assert not hp.is_ancestor(seizure, seizure)
    assert hp.ancestors(_code(hp, "HP:0000001")).size == 0


def test_ancestor_pairs_within_a_batch(hp: TermIndex) -> None:
    ids = ["HP:0002197", "HP:0001250", "HP:0012638", "HP:0002616"]
    codes = np.array([_code(hp, i) for i in ids], dtype=np.int32)
    descendants, ancestors = hp.ancestor_pairs(codes)
    pairs = {
        (hp.term_id(int(d)), hp.term_id(int(a)))
        for d, a in zip(descendants, ancestors, strict=True)
    }
    assert pairs == {
        ("HP:0002197", "HP:0001250"),
        ("HP:0002197", "HP:0012638"),
        ("HP:0001250", "HP:0012638"),
    }


def test_ancestor_pairs_without_relations(hp: TermIndex) -> None:
    descendants, ancestors = hp.ancestor_pairs(np.array([_code(hp, "HP:0000001")]))
    assert descendants.size == ancestors.size == 0
    descendants, ancestors = hp.ancestor_pairs(np.array([], dtype=np.int32))
    assert descendants.size == ancestors.size == 0
