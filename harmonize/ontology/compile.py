"""Compile an OBO release, loaded once with pronto, into plain arrays and dicts.

The result, :class:`CompiledIndex`, holds no pronto objects, so it pickles small and
loads fast; :class:`harmonize.ontology.index.TermIndex` wraps it. Terms get integer
codes in sorted id order; the strict ancestor closure over ``is_a`` is stored as CSR
arrays (``anc_offsets[c]:anc_offsets[c + 1]`` slices ``anc_indices``, sorted).
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from harmonize.errors import OntologyError
from harmonize.ontology.resolution import (
    TIER_EXACT_SYNONYM,
    TIER_LABEL,
    TIER_NORMALIZED_EXACT_SYNONYM,
    TIER_NORMALIZED_LABEL,
    TIER_NORMALIZED_RELATED_SYNONYM,
    TIER_RELATED_SYNONYM,
)
from harmonize.ontology.text import casefold_key, normalized_key

AMBIGUOUS = -1
"""Code stored for a text key that several live terms share equally well."""

_RELEASE = re.compile(r"releases/([^/\s]+)")
_OBSOLETE_PREFIX = "obsolete "


@dataclass(frozen=True, slots=True)
class RawTerm:
    """What the compiler needs from one ontology term."""

    id: str
    label: str
    alt_ids: tuple[str, ...]
    exact_synonyms: tuple[str, ...]
    related_synonyms: tuple[str, ...]
    parents: tuple[str, ...]
    obsolete: bool
    replaced_by: tuple[str, ...]
    consider: tuple[str, ...]


@dataclass(slots=True)
class CompiledIndex:
    """Everything a :class:`TermIndex` answers from; picklable, no pronto inside."""

    prefix: str
    version: str
    sha256: str
    ids: list[str]
    labels: list[str]
    alt_ids: dict[str, int]
    obsolete: npt.NDArray[np.bool_]
    replaced_by: dict[int, str]
    consider: dict[int, tuple[str, ...]]
    anc_offsets: npt.NDArray[np.int32]
    anc_indices: npt.NDArray[np.int32]
    exact_labels: dict[str, int]
    fuzzy_tables: bytes
    """Pickled ``(casefold_keys, normalized_keys)``, each ``{key: (code, tier)}``.

    Kept as bytes so a warm load does not pay for them until text needs a fuzzy match.
    """

    def load_fuzzy_tables(self) -> tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]]:
        """Unpickle ``fuzzy_tables``."""
        tables: tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]]
        tables = pickle.loads(self.fuzzy_tables)
        return tables


def release_version(data_version: str | None) -> str | None:
    """``'2025-01-16'`` from ``'hp/releases/2025-01-16'``; other values as they are.

    >>> release_version("hp/releases/2025-01-16"), release_version("harmonize-slice-1")
    ('2025-01-16', 'harmonize-slice-1')
    """
    if not data_version:
        return None
    found = _RELEASE.search(data_version)
    return found.group(1) if found else data_version.strip()


def read_pronto(path: Path) -> tuple[str | None, list[RawTerm]]:
    """Load ``path`` with pronto (no imports followed) and extract its terms."""
    import pronto  # deferred: pronto is only needed for a cold build

    try:
        ontology = pronto.Ontology(  # type: ignore[attr-defined]
            str(path), import_depth=0, encoding="utf-8"
        )
        # pronto checks some things (declared synonym types, ...) only when asked
        terms = [_raw_term(term) for term in ontology.terms()]
    except Exception as err:  # pronto raises many types for a bad file
        raise OntologyError(
            f"pronto could not load the ontology: {err}",
            file=str(path),
            hint="check the file is a complete OBO or OWL release",
        ) from err
    return ontology.metadata.data_version, terms


def _raw_term(term: Any) -> RawTerm:
    exact: list[str] = []
    related: list[str] = []
    for synonym in term.synonyms:
        if synonym.scope == "EXACT":
            exact.append(synonym.description)
        elif synonym.scope == "RELATED":
            related.append(synonym.description)
    return RawTerm(
        id=term.id,
        label=term.name or "",
        alt_ids=tuple(sorted(term.alternate_ids)),
        exact_synonyms=tuple(sorted(exact)),
        related_synonyms=tuple(sorted(related)),
        parents=tuple(sorted(p.id for p in term.superclasses(distance=1, with_self=False))),
        obsolete=bool(term.obsolete),
        replaced_by=tuple(sorted(t.id for t in term.replaced_by)),
        consider=tuple(sorted(t.id for t in term.consider)),
    )


def compile_terms(
    terms: Iterable[RawTerm], *, prefix: str, version: str, sha256: str
) -> CompiledIndex:
    """Assign codes, build the id/text lookups and the ancestor closure."""
    ordered = sorted(terms, key=lambda t: t.id)
    ids = [t.id for t in ordered]
    code_of = {term_id: code for code, term_id in enumerate(ids)}
    if len(code_of) != len(ids):
        raise OntologyError(f"{prefix}: duplicate term ids in the release")
    alt_ids: dict[str, int] = {}
    for code, term in enumerate(ordered):
        for alt in term.alt_ids:
            if alt not in code_of:
                alt_ids.setdefault(alt, code)
    obsolete = np.array([t.obsolete for t in ordered], dtype=np.bool_)
    offsets, indices = _closure(ordered, code_of)
    exact_labels, casefold_keys, normalized_keys = _text_keys(ordered, obsolete)
    return CompiledIndex(
        prefix=prefix,
        version=version,
        sha256=sha256,
        ids=ids,
        labels=[t.label for t in ordered],
        alt_ids=alt_ids,
        obsolete=obsolete,
        replaced_by={c: t.replaced_by[0] for c, t in enumerate(ordered) if t.replaced_by},
        consider={c: t.consider for c, t in enumerate(ordered) if t.consider},
        anc_offsets=offsets,
        anc_indices=indices,
        exact_labels=exact_labels,
        fuzzy_tables=pickle.dumps((casefold_keys, normalized_keys), pickle.HIGHEST_PROTOCOL),
    )


def _closure(
    terms: list[RawTerm], code_of: dict[str, int]
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """Strict ancestors of every term over ``is_a``, as sorted CSR arrays."""
    parents = [[code_of[p] for p in t.parents if p in code_of] for t in terms]
    closure: list[frozenset[int] | None] = [None] * len(terms)
    on_path = [False] * len(terms)
    for root in range(len(terms)):
        if closure[root] is not None:
            continue
        stack: list[tuple[int, Iterator[int]]] = [(root, iter(parents[root]))]
        on_path[root] = True
        while stack:
            node, pending = stack[-1]
            child = next(pending, None)
            if child is None:
                stack.pop()
                on_path[node] = False
                found: set[int] = set(parents[node])
                for parent in parents[node]:
                    found |= closure[parent] or frozenset()
                closure[node] = frozenset(found)
            elif on_path[child]:
                raise OntologyError(f"is_a cycle through {terms[child].id}")
            elif closure[child] is None:
                on_path[child] = True
                stack.append((child, iter(parents[child])))
    sizes = np.fromiter((len(c or ()) for c in closure), dtype=np.int64, count=len(terms))
    offsets = np.zeros(len(terms) + 1, dtype=np.int32)
    np.cumsum(sizes, out=offsets[1:])
    indices = np.fromiter(
        (a for c in closure for a in sorted(c or ())), dtype=np.int32, count=int(sizes.sum())
    )
    return offsets, indices


def _text_keys(
    terms: list[RawTerm], obsolete: npt.NDArray[np.bool_]
) -> tuple[dict[str, int], dict[str, tuple[int, int]], dict[str, tuple[int, int]]]:
    """Exact-label, case-folded and normalized lookups, ties resolved once here.

    For each key the best candidate is the one with the lowest (obsolete, tier): a live
    term beats an obsolete one, then a better tier wins. Several distinct best codes
    make the key :data:`AMBIGUOUS`.
    """
    exact: dict[str, list[tuple[bool, int, int]]] = {}
    folded: dict[str, list[tuple[bool, int, int]]] = {}
    normal: dict[str, list[tuple[bool, int, int]]] = {}

    def add(table: dict[str, list[tuple[bool, int, int]]], key: str, code: int, tier: int) -> None:
        if key:
            table.setdefault(key, []).append((bool(obsolete[code]), tier, code))

    for code, term in enumerate(terms):
        add(exact, term.label.strip(), code, TIER_LABEL)
        add(normal, normalized_key(term.label), code, TIER_NORMALIZED_LABEL)
        if term.obsolete and term.label.startswith(_OBSOLETE_PREFIX):
            # the label before it was made obsolete; a live term's synonym outranks it
            former = term.label[len(_OBSOLETE_PREFIX) :]
            add(folded, casefold_key(former), code, TIER_LABEL)
            add(normal, normalized_key(former), code, TIER_NORMALIZED_LABEL)
        for synonym in term.exact_synonyms:
            add(folded, casefold_key(synonym), code, TIER_EXACT_SYNONYM)
            add(normal, normalized_key(synonym), code, TIER_NORMALIZED_EXACT_SYNONYM)
        for synonym in term.related_synonyms:
            add(folded, casefold_key(synonym), code, TIER_RELATED_SYNONYM)
            add(normal, normalized_key(synonym), code, TIER_NORMALIZED_RELATED_SYNONYM)

    return (
        {key: code for key, (code, _) in _pick(exact).items()},
        _pick(folded),
        _pick(normal),
    )


def _pick(table: dict[str, list[tuple[bool, int, int]]]) -> dict[str, tuple[int, int]]:
    picked: dict[str, tuple[int, int]] = {}
    for key, candidates in table.items():
        best = min(candidates)
        codes = {code for dead, tier, code in candidates if (dead, tier) == best[:2]}
        picked[key] = (best[2] if len(codes) == 1 else AMBIGUOUS, best[1])
    return picked
