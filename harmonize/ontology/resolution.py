"""What resolving a piece of text against an ontology found, and how sure we are.

A :class:`Resolution` records the term, how it was matched (``method``), a score
between 0 and 1, the ontology release, and, when the text named an obsolete term that
has a replacement, the obsolete id it was replaced from. Anything short of an exact
``id`` or ``label`` match is a quirk worth reporting as a finding.

Match tiers, best first (the tier number is what the compiled index stores):

====  ===========  =====  =========================================
tier  method       score  matched text
====  ===========  =====  =========================================
0     label        1.0    the label exactly (or, ignoring case, an
                          obsolete term's label without "obsolete ")
1     synonym      0.95   an EXACT synonym, ignoring case/whitespace
2     normalized   0.9    the label, after :func:`normalized_key`
3     normalized   0.85   an EXACT synonym, after normalization
4     synonym      0.8    a RELATED synonym, ignoring case/whitespace
5     normalized   0.7    a RELATED synonym, after normalization
====  ===========  =====  =========================================

Ids match with method ``id`` (or ``alt_id`` for a secondary id) and score 1.0.

When no tier matches, a *fuzzy* tier compares the normalized text with every normalized
label and synonym (:mod:`harmonize.ontology.fuzzy`): a misspelling such as
"Macrocephally" matches with method ``fuzzy`` and a score between 0.5 and 0.69, below
every exact tier. Anything :attr:`Resolution.low_confidence` (a score under 0.9, or a
fuzzy match) must be reported as a finding and reviewed, never accepted silently.

>>> Resolution("HP:0001250", "Seizure", "label", 1.0, "HP 2025-01-16").low_confidence
False
>>> Resolution("HP:0000256", "Macrocephaly", "fuzzy", 0.66, "HP 2025-01-16").low_confidence
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Method = Literal["id", "alt_id", "label", "synonym", "normalized", "fuzzy", "curated"]
"""``curated``: a curator's accepted mapping for this dataset, from the mapping memory."""

TIER_LABEL: Final = 0
TIER_EXACT_SYNONYM: Final = 1
TIER_NORMALIZED_LABEL: Final = 2
TIER_NORMALIZED_EXACT_SYNONYM: Final = 3
TIER_RELATED_SYNONYM: Final = 4
TIER_NORMALIZED_RELATED_SYNONYM: Final = 5

LOW_CONFIDENCE_BELOW: Final = 0.9
"""Scores under this are low-confidence matches (a finding, and the review list)."""

TIERS: Final[tuple[tuple[Method, float], ...]] = (
    ("label", 1.0),
    ("synonym", 0.95),
    ("normalized", 0.9),
    ("normalized", 0.85),
    ("synonym", 0.8),
    ("normalized", 0.7),
)


@dataclass(frozen=True, slots=True)
class Resolution:
    """One resolved term.

    ``replaced_from`` is the obsolete id the text named when the index followed its
    ``replaced_by``; it is ``None`` otherwise (an obsolete term with only ``consider``
    suggestions resolves to itself, see :meth:`TermIndex.is_obsolete`).
    """

    term_id: str
    label: str
    method: Method
    score: float
    release: str
    replaced_from: str | None = None

    @property
    def low_confidence(self) -> bool:
        """Whether a person should review the match: a score under 0.9, or fuzzy."""
        return self.score < LOW_CONFIDENCE_BELOW or self.method == "fuzzy"
