"""Resolving ids, labels, synonyms and messy text against the real HPO release."""

from __future__ import annotations

import pytest

from harmonize.ontology import Resolution, TermIndex


def test_primary_id(hp: TermIndex) -> None:
    found = hp.resolve("HP:0001250")
    assert found == Resolution("HP:0001250", "Seizure", "id", 1.0, "HP 2025-01-16", None)


@pytest.mark.parametrize(
    "text", ["hp:0001250", " HP_0001250 ", "http://purl.obolibrary.org/obo/HP_0001250"]
)
def test_other_id_spellings(hp: TermIndex, text: str) -> None:
    found = hp.resolve(text)
    assert found is not None
    assert (found.term_id, found.method) == ("HP:0001250", "id")


def test_alt_id_resolves_to_primary(hp: TermIndex) -> None:
    """HP:0001275 is an alt_id of HP:0001250 Seizure in the 2025-01-16 release."""
    found = hp.resolve("HP:0001275")
    assert found is not None
    assert (found.term_id, found.label, found.method) == ("HP:0001250", "Seizure", "alt_id")
    assert hp.is_alt_id("HP:0001275") and not hp.is_alt_id("HP:0001250")
    assert hp.code("HP:0001275") == hp.code("HP:0001250")


def test_obsolete_with_replacement(hp: TermIndex) -> None:
    """HP:0002631 'obsolete Dilatation of ascending aorta' has replaced_by HP:0002616."""
    found = hp.resolve("HP:0002631")
    assert found is not None
    assert found.term_id == "HP:0002616"
    assert found.label == "Aortic root aneurysm"
    assert found.replaced_from == "HP:0002631"
    assert found.method == "id"


def test_former_label_of_obsolete_term_follows_replacement(hp: TermIndex) -> None:
    """HP:0000487 'obsolete Congenital strabismus' has replaced_by HP:0000486 Strabismus."""
    found = hp.resolve("congenital strabismus")
    assert found is not None
    assert (found.term_id, found.label) == ("HP:0000486", "Strabismus")
    assert found.replaced_from == "HP:0000487"


def test_live_synonym_beats_former_label_of_obsolete_term(hp: TermIndex) -> None:
    """Regression: 'Dilatation of ascending aorta' is the former label of obsolete
    HP:0002631 (replaced by HP:0002616) but an EXACT synonym of live HP:0004970. The
    obsolete label used to win because former labels sat in the exact-label table."""
    found = hp.resolve("Dilatation of ascending aorta")
    assert found is not None
    assert (found.term_id, found.method, found.replaced_from) == ("HP:0004970", "synonym", None)


def test_obsolete_with_only_consider_resolves_to_itself(hp: TermIndex) -> None:
    """HP:0000489 is obsolete with consider HP:0100886 and HP:0100887, no replaced_by."""
    found = hp.resolve("HP:0000489")
    assert found is not None
    assert found.term_id == "HP:0000489"
    assert found.replaced_from is None
    code = hp.code("HP:0000489")
    assert code is not None
    assert hp.is_obsolete(code)
    assert hp.replaced_by(code) is None
    assert hp.consider(code) == ["HP:0100886", "HP:0100887"]


def test_exact_label(hp: TermIndex) -> None:
    found = hp.resolve("Seizure")
    assert found is not None
    assert (found.term_id, found.method, found.score) == ("HP:0001250", "label", 1.0)


def test_exact_synonym(hp: TermIndex) -> None:
    """'Seizures' is an EXACT (plural_form) synonym of HP:0001250."""
    found = hp.resolve("Seizures")
    assert found is not None
    assert (found.term_id, found.method, found.score) == ("HP:0001250", "synonym", 0.95)


def test_related_synonym_scores_lower(hp: TermIndex) -> None:
    """'Epilepsy' is only a RELATED synonym of Seizure: found, but not as an equivalent."""
    found = hp.resolve("Epilepsy")
    assert found is not None
    assert (found.term_id, found.method) == ("HP:0001250", "synonym")
    assert found.score < 0.9


@pytest.mark.parametrize(
    ("text", "term_id"),
    [
        ("  seizure.", "HP:0001250"),
        ("SEIZURE", "HP:0001250"),
        ("nervous system physiology, abnormal", "HP:0012638"),
        ("Abnormal  Nervous-System physiology", "HP:0012638"),
        ("generalized-onset SEIZURES", "HP:0002197"),
    ],
)
def test_messy_text(hp: TermIndex, text: str, term_id: str) -> None:
    found = hp.resolve(text)
    assert found is not None
    assert found.term_id == term_id
    assert found.method in {"normalized", "synonym"}
    assert found.score < 1.0


@pytest.mark.parametrize("text", ["", "   ", "no such phenotype at all", "HP:9999999"])
def test_no_match(hp: TermIndex, text: str) -> None:
    assert hp.resolve(text) is None


def test_repeated_resolution_is_stable(hp: TermIndex) -> None:
    """Exact hits are memoized; a second call must give an equal answer."""
    assert hp.resolve("HP:0002631") == hp.resolve("HP:0002631")
    assert hp.resolve("Seizure") is hp.resolve("Seizure")
