"""The fuzzy tier, candidate lists for review, and the low-confidence flag."""

from __future__ import annotations

import pytest

from harmonize.ontology import Resolution, TermIndex
from harmonize.ontology.fuzzy import RESOLVE_CUTOFF, FuzzyMatcher, fuzzy_score

from .factory import make_index as _index
from .factory import make_term as _term


@pytest.mark.parametrize(
    ("text", "term_id", "label"),
    [
        ("Macrocephally", "HP:0000256", "Macrocephaly"),
        ("Hypotonnia", "HP:0001252", "Hypotonia"),
        ("Intelectual disability", "HP:0001249", "Intellectual disability"),
        ("global developmental dellay", "HP:0001263", "Global developmental delay"),
        ("Cleft pallate", "HP:0000175", "Cleft palate"),
    ],
)
def test_misspellings_match_fuzzily(hp: TermIndex, text: str, term_id: str, label: str) -> None:
    found = hp.resolve(text)
    assert found is not None
    assert (found.term_id, found.label, found.method) == (term_id, label, "fuzzy")
    assert 0.5 <= found.score < 0.7
    assert found.low_confidence
    assert found.release == "HP 2025-01-16"


def test_fuzzy_tier_can_be_turned_off(hp: TermIndex) -> None:
    assert hp.resolve("Macrocephaly", fuzzy=False) is not None  # exact tiers still run
    assert hp.resolve("Seizures ", fuzzy=False) is not None
    assert hp.resolve("Macrocephallly", fuzzy=False) is None  # before the memo has it
    assert hp.resolve("Macrocephallly") is not None
    assert hp.resolve("Macrocephallly", fuzzy=False) is None  # and after


def test_fuzzy_scores_stay_below_every_other_tier() -> None:
    assert fuzzy_score(100.0) < 0.7  # the lowest non-fuzzy tier (normalized RELATED synonym)
    assert fuzzy_score(RESOLVE_CUTOFF) >= 0.5
    assert fuzzy_score(0.0) == 0.0


def test_fuzzy_match_follows_replacements(hp: TermIndex) -> None:
    """'congenital strabismus' is the former label of obsolete HP:0000487 -> HP:0000486."""
    found = hp.resolve("congenital strabismuss")
    assert found is not None
    assert (found.term_id, found.method, found.replaced_from) == (
        "HP:0000486",
        "fuzzy",
        "HP:0000487",
    )


@pytest.mark.parametrize(
    "text", ["no such phenotype at all", "HP:9999999", "HP_1234567", "xyz", "Seizrue"]
)
def test_no_fuzzy_match(hp: TermIndex, text: str) -> None:
    """Unknown ids are not misspelled labels; a transposition in a short word scores
    under the cutoff (a review can still find it through candidates())."""
    assert hp.resolve(text) is None


def test_exact_tiers_still_win(hp: TermIndex) -> None:
    found = hp.resolve("Seizure")
    assert found is not None and found.method == "label" and not found.low_confidence


def test_equally_similar_terms_are_ambiguous() -> None:
    index = _index(_term("X:1", "Brachydactylx"), _term("X:2", "Brachydactyly"))
    assert index.resolve("Brachydactylz") is None
    found = index.resolve("Brachydactylyy")
    assert found is not None and (found.term_id, found.method) == ("X:2", "fuzzy")


def test_live_term_beats_obsolete_one_at_equal_similarity() -> None:
    index = _index(
        _term("X:1", "Brachydactylx", obsolete=True),
        _term("X:2", "Brachydactyly"),
    )
    found = index.resolve("Brachydactylz")
    assert found is not None and found.term_id == "X:2"


def test_misses_are_remembered(hp: TermIndex) -> None:
    assert hp.resolve("Qwertyuiop asdfgh") is None
    assert "Qwertyuiop asdfgh" in hp._slow_memo
    assert hp.resolve("Qwertyuiop asdfgh") is None


def test_matcher_window_skips_keys_that_cannot_reach_the_cutoff() -> None:
    matcher = FuzzyMatcher({"abcdefghij": (1, 2), "abcdefghijklmnopqrstuvwxyz": (2, 2)})
    assert len(matcher) == 2
    assert [m.code for m in matcher.matches("abcdefghik", 88.0)] == [1]
    assert matcher.matches("abc", 0.0) == []  # too short to match fuzzily


def test_low_confidence() -> None:
    def make(method: str, score: float) -> Resolution:
        return Resolution("X:1", "x", method, score, "X 1")  # type: ignore[arg-type]

    assert not make("id", 1.0).low_confidence
    assert not make("synonym", 0.95).low_confidence
    assert not make("normalized", 0.9).low_confidence
    assert make("normalized", 0.85).low_confidence
    assert make("synonym", 0.8).low_confidence
    assert make("fuzzy", 0.95).low_confidence


def test_candidates_rank_distinct_terms(hp: TermIndex) -> None:
    found = hp.candidates("Hypotonnia")
    assert len(found) == 5
    assert found[0].term_id == "HP:0001252" and found[0].method == "fuzzy"
    assert len({r.term_id for r in found}) == 5
    assert [r.score for r in found] == sorted((r.score for r in found), reverse=True)
    assert "HP:0001276" in {r.term_id for r in found}  # Hypertonia: for a person to rule out


def test_candidates_put_an_exact_match_first_once(hp: TermIndex) -> None:
    found = hp.candidates("Seizure", limit=3)
    assert found[0] == hp.resolve("Seizure")
    assert [r.term_id for r in found].count("HP:0001250") == 1
    assert len(found) == 3


def test_candidates_offer_what_resolve_refuses(hp: TermIndex) -> None:
    assert hp.resolve("Seizrue") is None
    found = hp.candidates("Seizrue", limit=3)
    assert found and found[0].term_id == "HP:0001250" and found[0].low_confidence


def test_candidates_for_ambiguous_text_list_both_terms() -> None:
    index = _index(_term("X:1", "Brachydactylx"), _term("X:2", "Brachydactyly"))
    assert {r.term_id for r in index.candidates("Brachydactylz")} == {"X:1", "X:2"}


def test_candidates_of_nothing(hp: TermIndex) -> None:
    assert hp.candidates("   ") == []
    assert hp.candidates("Seizure", limit=0) == []
    found = hp.candidates("HP:0001275", limit=1)
    assert [(r.term_id, r.method) for r in found] == [("HP:0001250", "alt_id")]
