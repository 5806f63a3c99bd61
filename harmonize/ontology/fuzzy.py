"""The fuzzy tier: misspelled text against every normalized label and synonym.

:class:`FuzzyMatcher` holds the normalized keys of one release (see
:func:`harmonize.ontology.text.normalized_key`), sorted by length. A query is compared,
with rapidfuzz's Indel ``ratio`` (0-100; on sorted words it is a token-sort ratio),
only against keys whose length could reach the cutoff, which skips most of the ~40k
HPO keys. :func:`fuzzy_score` maps a similarity to a resolution score that stays below
every exact tier (at most 0.69), so a fuzzy match can never outrank a real one.

>>> fuzzy_score(100.0), fuzzy_score(RESOLVE_CUTOFF), fuzzy_score(CANDIDATE_CUTOFF)
(0.69, 0.51, 0.09)
>>> matcher = FuzzyMatcher({"macrocephaly": (7, 2), "microcephaly": (8, 2)})
>>> [(m.key, m.code) for m in matcher.matches("macrocephally", RESOLVE_CUTOFF)]
[('macrocephaly', 7), ('microcephaly', 8)]
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Final

RESOLVE_CUTOFF: Final = 88.0
"""Least similarity (0-100) :meth:`TermIndex.resolve` accepts as a fuzzy match."""

CANDIDATE_CUTOFF: Final = 60.0
"""Least similarity :meth:`TermIndex.candidates` offers for review."""

MIN_QUERY_LENGTH: Final = 4
"""Shorter normalized text is never matched fuzzily: one letter is too much of it."""

_TOP_SCORE: Final = 0.69
_SCORE_PER_POINT: Final = 0.015


def fuzzy_score(similarity: float) -> float:
    """Resolution score for a similarity: 0.69 at 100, down 0.015 per point, floor 0."""
    return round(max(0.0, _TOP_SCORE - (100.0 - similarity) * _SCORE_PER_POINT), 4)


@dataclass(frozen=True, slots=True)
class FuzzyMatch:
    """One key within the cutoff: its similarity (0-100), code and tier.

    ``code`` is :data:`harmonize.ontology.compile.AMBIGUOUS` for a key several terms
    share equally well.
    """

    key: str
    similarity: float
    code: int
    tier: int


class FuzzyMatcher:
    """Similarity search over the normalized keys of one release."""

    __slots__ = ("_entries", "_keys", "_lengths")

    def __init__(self, normalized_keys: dict[str, tuple[int, int]]) -> None:
        ordered = sorted(normalized_keys.items(), key=lambda item: (len(item[0]), item[0]))
        self._keys = [key for key, _ in ordered]
        self._lengths = [len(key) for key in self._keys]
        self._entries = [entry for _, entry in ordered]

    def __len__(self) -> int:
        return len(self._keys)

    def matches(self, query: str, cutoff: float, limit: int | None = None) -> list[FuzzyMatch]:
        """Keys at least ``cutoff`` similar to ``query`` (a normalized key), best first.

        Ties keep a stable order (shorter key, then alphabetical).
        """
        from rapidfuzz import fuzz, process  # deferred: only misspelled text needs it

        if len(query) < MIN_QUERY_LENGTH or not self._keys:
            return []
        low, high = _length_window(len(query), cutoff / 100.0)
        start = bisect.bisect_left(self._lengths, low)
        stop = bisect.bisect_right(self._lengths, high)
        if stop <= start:
            return []
        found = process.extract(
            query, self._keys[start:stop], scorer=fuzz.ratio, score_cutoff=cutoff, limit=limit
        )
        matches = [
            FuzzyMatch(key, float(score), *self._entries[start + at]) for key, score, at in found
        ]
        matches.sort(key=lambda m: (-m.similarity, len(m.key), m.key))
        return matches


def _length_window(length: int, ratio: float) -> tuple[int, int]:
    """Key lengths whose Indel ratio with a ``length``-long query can reach ``ratio``.

    ``ratio = 2 * common / (a + b)`` and ``common <= min(a, b)``, so a key of length
    ``b`` qualifies only if ``ratio * a / (2 - ratio) <= b <= a * (2 - ratio) / ratio``.
    """
    if ratio <= 0.0:
        return 0, 1 << 30
    low = math.floor(ratio * length / (2.0 - ratio))
    high = math.ceil(length * (2.0 - ratio) / ratio)
    return max(low, 0), high
