"""Compiling terms: text-key ties, obsolete terms and the is_a closure."""

from __future__ import annotations

import pytest

from harmonize.errors import OntologyError

from .factory import make_index as _index
from .factory import make_term as _term


def test_shared_synonym_is_ambiguous() -> None:
    index = _index(
        _term("X:1", "Left thing", exact_synonyms=("Thing",)),
        _term("X:2", "Right thing", exact_synonyms=("Thing",)),
    )
    assert index.resolve("thing") is None
    found = index.resolve("left thing")
    assert found is not None and found.term_id == "X:1"


def test_live_term_beats_obsolete_one_for_the_same_text() -> None:
    index = _index(
        _term("X:1", "obsolete Big toe", obsolete=True, consider=("X:2",)),
        _term("X:2", "Hallux", exact_synonyms=("Big toe",)),
    )
    found = index.resolve("Big toe")
    assert found is not None
    assert (found.term_id, found.method) == ("X:2", "synonym")


def test_replacement_chains_are_followed() -> None:
    index = _index(
        _term("X:1", "obsolete A", obsolete=True, replaced_by=("X:2",)),
        _term("X:2", "obsolete B", obsolete=True, replaced_by=("X:3",)),
        _term("X:3", "C"),
    )
    found = index.resolve("X:1")
    assert found is not None
    assert (found.term_id, found.replaced_from) == ("X:3", "X:1")


def test_closure_over_a_diamond() -> None:
    index = _index(
        _term("X:1", "root"),
        _term("X:2", "left", parents=("X:1",)),
        _term("X:3", "right", parents=("X:1",)),
        _term("X:4", "bottom", parents=("X:2", "X:3", "Y:9")),
    )
    bottom = index.code("X:4")
    assert bottom is not None
    assert [index.term_id(int(c)) for c in index.ancestors(bottom)] == ["X:1", "X:2", "X:3"]


def test_is_a_cycle_is_an_error() -> None:
    with pytest.raises(OntologyError, match="cycle"):
        _index(_term("X:1", "a", parents=("X:2",)), _term("X:2", "b", parents=("X:1",)))
