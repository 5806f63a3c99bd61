"""Small hand-built term indexes for unit tests (no OBO file, no pronto)."""

from __future__ import annotations

from harmonize.ontology import TermIndex
from harmonize.ontology.compile import RawTerm, compile_terms


def make_term(term_id: str, label: str, **fields: object) -> RawTerm:
    values: dict[str, object] = {
        "alt_ids": (),
        "exact_synonyms": (),
        "related_synonyms": (),
        "parents": (),
        "obsolete": False,
        "replaced_by": (),
        "consider": (),
    }
    values.update(fields)
    return RawTerm(id=term_id, label=label, **values)  # type: ignore[arg-type]


def make_index(*terms: RawTerm) -> TermIndex:
    return TermIndex(compile_terms(terms, prefix="X", version="1", sha256="0" * 64))
