"""resolve_ids_and_labels: exact ids and labels for whole columns, like resolve()."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from harmonize.ontology import TermIndex
from harmonize.ontology.compile import RawTerm, compile_terms


def test_ids_alt_ids_labels_and_misses(hp: TermIndex) -> None:
    values = pa.array(
        ["HP:0001250", "Seizure", " HP:0001275 ", "HP:0002631", "nope", None, "Seizures"]
    )
    codes, methods = hp.resolve_ids_and_labels(values)
    assert isinstance(codes, pa.Int32Array) and isinstance(methods, pa.StringArray)
    seizure, root_aneurysm = hp.code("HP:0001250"), hp.code("HP:0002616")
    # an obsolete id gives its replacement, like resolve(); synonyms are left to resolve()
    assert codes.to_pylist() == [seizure, seizure, seizure, root_aneurysm, None, None, None]
    assert methods.to_pylist() == ["id", "label", "alt_id", "id", None, None, None]


def test_without_following_replacements(hp: TermIndex) -> None:
    codes, _ = hp.resolve_ids_and_labels(["HP:0002631"], follow_replacements=False)
    assert codes.to_pylist() == [hp.code("HP:0002631")]


def test_agrees_with_resolve_on_a_sample(hp: TermIndex) -> None:
    rng = np.random.default_rng(11)
    picks = rng.choice(len(hp), 400, replace=False)
    values = [hp.term_id(int(c)) if i % 2 else hp.label(int(c)) for i, c in enumerate(picks)]
    codes, methods = hp.resolve_ids_and_labels(pa.array(values))
    for value, code, method in zip(values, codes.to_pylist(), methods.to_pylist(), strict=True):
        found = hp.resolve(value)
        if found is None or found.method not in ("id", "alt_id", "label"):
            assert code is None, value
        else:
            assert (hp.term_id(code), method) == (found.term_id, found.method), value


def test_chunked_dictionary_and_other_types(hp: TermIndex) -> None:
    expected = hp.resolve_ids_and_labels(["HP:0001250", "Hypotonia", "x"])
    chunked = pa.chunked_array([["HP:0001250"], ["Hypotonia", "x"]])
    encoded = pa.array(["HP:0001250", "Hypotonia", "x"]).dictionary_encode()
    large = pa.array(["HP:0001250", "Hypotonia", "x"], type=pa.large_string())
    for values in (chunked, encoded, large):
        codes, methods = hp.resolve_ids_and_labels(values)
        assert codes.to_pylist() == expected[0].to_pylist()
        assert methods.to_pylist() == expected[1].to_pylist()
    codes, methods = hp.resolve_ids_and_labels(pa.array([1, 2]))
    assert codes.null_count == methods.null_count == 2


def test_ambiguous_label_is_null() -> None:
    def term(term_id: str, label: str) -> RawTerm:
        return RawTerm(term_id, label, (), (), (), (), False, (), ())

    index = TermIndex(
        compile_terms(
            [term("X:1", "Same"), term("X:2", "Same"), term("X:3", "Other")],
            prefix="X",
            version="1",
            sha256="0" * 64,
        )
    )
    codes, methods = index.resolve_ids_and_labels(["Same", "Other", "X:2"])
    assert codes.to_pylist() == [None, index.code("X:3"), index.code("X:2")]
    assert methods.to_pylist() == [None, "label", "id"]


def test_large_batch(hp: TermIndex) -> None:
    pool = np.array(["HP:0001250", "Seizure", "HP:0001275", "no match"])
    values = pa.array(np.random.default_rng(3).choice(pool, 200_000))
    codes, methods = hp.resolve_ids_and_labels(values)
    misses = int((values.to_numpy(zero_copy_only=False) == "no match").sum())
    assert len(codes) == len(methods) == 200_000
    assert codes.null_count == methods.null_count == misses
