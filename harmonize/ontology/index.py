"""Resolving text to terms of one ontology release, on top of its structure.

A :class:`TermIndex` is a release's :class:`~harmonize.ontology.structure.TermStructure`
(ids, labels, obsolescence, ancestors; compiled once and cached) plus the resolution
tiers. :meth:`TermIndex.resolve_ids_and_labels` resolves a million ids and exact labels
with pyarrow. Text resolution (:meth:`TermIndex.resolve`) tries, in order: ids (in any
usual spelling), exact labels, case-folded and normalized labels and synonyms, and last a
fuzzy tier for misspellings (:mod:`harmonize.ontology.fuzzy`).
:meth:`TermIndex.candidates` lists the best few terms for a person to choose from.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from harmonize.ontology.compile import AMBIGUOUS, CompiledIndex
from harmonize.ontology.fuzzy import (
    CANDIDATE_CUTOFF,
    RESOLVE_CUTOFF,
    FuzzyMatch,
    FuzzyMatcher,
    fuzzy_score,
)
from harmonize.ontology.resolution import TIERS, Method, Resolution
from harmonize.ontology.structure import TermStructure
from harmonize.ontology.text import casefold_key, normalized_key

_ID_FORM = re.compile(r"^(?:https?://purl\.obolibrary\.org/obo/)?([A-Za-z][A-Za-z0-9]*)[:_](\w+)$")
_SLOW_MEMO_SIZE = 1 << 16
"""Most texts remembered after the slow tiers (misses too); the memo is then cleared."""
_VECTOR_METHODS = ("id", "alt_id", "label")
_TextTables: TypeAlias = tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]]


class TermIndex(TermStructure):
    """A release's structure (:class:`TermStructure`) and the tiers that resolve text to terms."""

    __slots__ = ("_matcher", "_memo", "_slow_memo", "_text_tables", "_vector")

    def __init__(self, data: CompiledIndex) -> None:
        super().__init__(data)
        self._memo: dict[str, Resolution] = {}
        self._slow_memo: dict[str, Resolution | None] = {}
        self._text_tables: _TextTables | None = None
        self._matcher: FuzzyMatcher | None = None
        self._vector: _VectorTables | None = None

    # -- resolution -----------------------------------------------------------------

    def resolve(self, text: str, *, fuzzy: bool = True) -> Resolution | None:
        """Resolve an id, label, synonym or messy label to a term; ``None`` if no match.

        An obsolete term with a ``replaced_by`` resolves to the replacement (recording
        ``replaced_from``); one with only ``consider`` resolves to itself. Text that
        several terms match equally well resolves to ``None``. When nothing else
        matches, a misspelling may still match fuzzily (method ``fuzzy``, a score of at
        most 0.69): check :attr:`Resolution.low_confidence` before trusting a result.
        ``fuzzy=False`` turns that last tier off.
        """
        found = self._memo.get(text)
        if found is not None:  # an exact id or label seen before
            return found
        data = self._data
        code = self._code_of.get(text)
        if code is not None:
            found = self._result(code, "alt_id" if text in data.alt_ids else "id", 1.0)
        else:
            code = data.exact_labels.get(text)
            if code is not None:
                found = None if code == AMBIGUOUS else self._result(code, "label", 1.0)
            else:
                return self._resolve_slow(text, fuzzy)
        if found is not None:
            self._memo[text] = found  # bounded: only ids and labels are remembered
        return found

    def candidates(self, text: str, limit: int = 5) -> list[Resolution]:
        """The ``limit`` best distinct terms for ``text`` over every tier, best first.

        For a review list: unlike :meth:`resolve` it does not give up on ambiguous or
        weak text, and offers fuzzy matches down to a similarity of 60 (score 0.09).
        A term reached through several tiers appears once, with its best score; keys
        that several terms share equally well are skipped.
        """
        stripped = text.strip()
        if not stripped or limit <= 0:
            return []
        best: dict[str, Resolution] = {}

        def offer(code: int, method: Method, score: float) -> None:
            if code == AMBIGUOUS:
                return
            found = self._result(code, method, score)
            held = best.get(found.term_id)
            if held is None or found.score > held.score:
                best[found.term_id] = found

        known = self._known_id(stripped)
        if known is not None:
            offer(self._code_of[known], "alt_id" if known in self._data.alt_ids else "id", 1.0)
        label_code = self._data.exact_labels.get(stripped)
        if label_code is not None:
            offer(label_code, "label", 1.0)
        casefold_keys, normalized_keys = self._tables()
        key = normalized_key(stripped)
        for hit in (casefold_keys.get(casefold_key(stripped)), normalized_keys.get(key)):
            if hit is not None:
                offer(hit[0], *TIERS[hit[1]])
        for match in self._fuzzy_matcher().matches(key, CANDIDATE_CUTOFF, limit * 4 + 8):
            offer(match.code, "fuzzy", fuzzy_score(match.similarity))
        ranked = sorted(best.values(), key=lambda r: (-r.score, r.term_id))
        return ranked[:limit]

    def resolve_ids_and_labels(
        self,
        values: pa.Array | pa.ChunkedArray | Sequence[str | None],
        *,
        follow_replacements: bool = True,
    ) -> tuple[pa.Int32Array, pa.StringArray]:
        """Codes and methods for many ids or exact labels at once, without a Python loop.

        Each value (surrounding whitespace ignored) is looked up as a primary id
        (method ``id``), an alternative id (``alt_id``) or an exact label (``label``),
        in that order, with one :func:`pyarrow.compute.index_in`; anything else, an
        ambiguous label included, gives null in both arrays. Dictionary arrays are
        resolved once per distinct value. Like :meth:`resolve`, an obsolete term with a
        ``replaced_by`` gives its replacement's code unless ``follow_replacements`` is
        false (then compare with :meth:`codes` to see which were replaced).
        Send the nulls through :meth:`resolve` for synonyms, messy and misspelled text.
        """
        array = _as_array(values)
        if pa.types.is_dictionary(array.type):
            codes, methods = self.resolve_ids_and_labels(
                array.dictionary, follow_replacements=follow_replacements
            )
            return pc.take(codes, array.indices), pc.take(methods, array.indices)
        if not pa.types.is_string(array.type):
            array = array.cast(pa.string())
        tables = self._vector_tables()
        positions = pc.index_in(pc.utf8_trim_whitespace(array), value_set=tables.values)
        codes = pc.take(tables.targets if follow_replacements else tables.codes, positions)
        methods = pc.take(tables.methods, positions)
        return codes, methods

    def _resolve_slow(self, text: str, fuzzy: bool) -> Resolution | None:
        """The tiers after exact ids and labels, remembered (misses too) up to a bound.

        The memo holds answers with the fuzzy tier on; without it, a remembered fuzzy
        answer means no other tier matched.
        """
        memo = self._slow_memo
        if text in memo:
            found = memo[text]
            return None if not fuzzy and found and found.method == "fuzzy" else found
        if not fuzzy:
            return self._resolve_stripped(text.strip(), fuzzy=False)
        found = self._resolve_stripped(text.strip())
        if len(memo) >= _SLOW_MEMO_SIZE:
            memo.clear()
        memo[text] = found
        return found

    def _resolve_stripped(self, text: str, *, fuzzy: bool = True) -> Resolution | None:
        """Ids in other spellings, then labels, synonyms, normalized and fuzzy text."""
        if not text:
            return None
        data = self._data
        known = self._known_id(text)
        if known is not None:
            method: Method = "alt_id" if known in data.alt_ids else "id"
            return self._result(self._code_of[known], method, 1.0)
        code = data.exact_labels.get(text)
        if code is not None:
            return None if code == AMBIGUOUS else self._result(code, "label", 1.0)
        hit = self._text_match(text)
        if hit is not None:
            if hit[0] == AMBIGUOUS:
                return None
            method, score = TIERS[hit[1]]
            return self._result(hit[0], method, score)
        return self._fuzzy_resolve(text) if fuzzy else None

    def _text_match(self, text: str) -> tuple[int, int] | None:
        """The best synonym or normalized-text hit ``(code, tier)``; code may be ambiguous."""
        casefold_keys, normalized_keys = self._tables()
        return _better(
            casefold_keys.get(casefold_key(text)),
            normalized_keys.get(normalized_key(text)),
            self._data.obsolete,
        )

    def _fuzzy_resolve(self, text: str) -> Resolution | None:
        """The single term whose normalized label or synonym is most similar to ``text``.

        Text shaped like an id is not matched (an unknown id is not a misspelled label).
        Among equally similar keys a live term beats an obsolete one; several terms
        left, or a key several terms share, make the text ambiguous: ``None``.
        """
        shape = _ID_FORM.match(text)
        if shape is not None and any(ch.isdigit() for ch in shape.group(2)):
            return None
        matches = self._fuzzy_matcher().matches(normalized_key(text), RESOLVE_CUTOFF)
        if not matches:
            return None
        top = [m for m in matches if m.similarity == matches[0].similarity]
        if any(m.code == AMBIGUOUS for m in top):
            return None
        obsolete = self._data.obsolete
        live = [m for m in top if not obsolete[m.code]] or top
        score = fuzzy_score(top[0].similarity)
        found: dict[str, Resolution] = {}
        for match in sorted(live, key=_by_tier):
            result = self._result(match.code, "fuzzy", score)
            found.setdefault(result.term_id, result)
        return next(iter(found.values())) if len(found) == 1 else None

    def _tables(self) -> _TextTables:
        if self._text_tables is None:
            self._text_tables = self._data.load_fuzzy_tables()
        return self._text_tables

    def _fuzzy_matcher(self) -> FuzzyMatcher:
        """Built on first use, once per index (a race only builds it twice)."""
        if self._matcher is None:
            self._matcher = FuzzyMatcher(self._tables()[1])
        return self._matcher

    def _vector_tables(self) -> _VectorTables:
        """Ids, alt ids and exact labels as one value set, built on first use."""
        if self._vector is None:
            data = self._data
            labels = [(k, c) for k, c in data.exact_labels.items() if c != AMBIGUOUS]
            raw = np.concatenate(
                [
                    self._lookup_codes.to_numpy(),
                    np.fromiter((c for _, c in labels), dtype=np.int32, count=len(labels)),
                ]
            ).astype(np.int32)
            kinds = np.concatenate(
                [
                    np.zeros(len(data.ids), dtype=np.int8),
                    np.ones(len(data.alt_ids), dtype=np.int8),
                    np.full(len(labels), 2, dtype=np.int8),
                ]
            )
            targets = np.arange(len(data.ids), dtype=np.int32)
            for code in data.replaced_by:
                targets[code] = self._follow(code)
            self._vector = _VectorTables(
                values=pa.concat_arrays(
                    [self._lookup_ids, pa.array([k for k, _ in labels], type=pa.string())]
                ),
                codes=pa.array(raw, type=pa.int32()),
                targets=pa.array(targets[raw], type=pa.int32()),
                methods=pc.take(pa.array(_VECTOR_METHODS, type=pa.string()), pa.array(kinds)),
            )
        return self._vector

    def _known_id(self, text: str) -> str | None:
        """The known id ``text`` names, also as ``hp:0001250``, ``HP_0001250`` or PURL."""
        code_of = self._code_of
        if text in code_of:
            return text
        found = _ID_FORM.match(text)
        if found is None:
            return None
        prefix, local = found.group(1).upper(), found.group(2)
        for candidate in (f"{prefix}:{local}", f"{prefix}:{local.upper()}"):
            if candidate in code_of:
                return candidate
        return None

    def _result(self, code: int, method: Method, score: float) -> Resolution:
        data = self._data
        target = self._follow(code)
        replaced_from = data.ids[code] if target != code else None
        return Resolution(
            data.ids[target], data.labels[target], method, score, self._release, replaced_from
        )


@dataclass(frozen=True, slots=True)
class _VectorTables:
    """What :meth:`TermIndex.resolve_ids_and_labels` looks values up in.

    ``values`` holds primary ids, then alternative ids, then unambiguous exact labels;
    the other arrays are parallel to it: the term's code, the code after following
    replacements, and the method a hit there reports.
    """

    values: pa.StringArray
    codes: pa.Int32Array
    targets: pa.Int32Array
    methods: pa.StringArray


def _by_tier(match: FuzzyMatch) -> int:
    return match.tier


def _as_array(values: pa.Array | pa.ChunkedArray | Sequence[str | None]) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    if isinstance(values, pa.Array):
        return values
    return pa.array(values, type=pa.string())


def _better(
    first: tuple[int, int] | None,
    second: tuple[int, int] | None,
    obsolete: npt.NDArray[np.bool_],
) -> tuple[int, int] | None:
    """The hit with the lower (obsolete, tier); ambiguous hits count as live."""
    if first is None or second is None:
        return first or second

    def rank(hit: tuple[int, int]) -> tuple[bool, int]:
        return (hit[0] != AMBIGUOUS and bool(obsolete[hit[0]]), hit[1])

    return first if rank(first) <= rank(second) else second
