"""Ages and onsets: ISO 8601 durations and HPO onset terms.

HPO onset terms are the descendants of HP:0003674 *Onset*, found through the ontology
(see :func:`onset_terms`).

>>> is_iso_duration("P3Y6M"), is_iso_duration("P"), is_iso_duration("3 years")
(True, False, False)
>>> normalize_age("p3y")
'P3Y'
>>> normalize_age("18 years")
'P18Y'
>>> normalize_age("6 mo")
'P6M'
>>> normalize_age("mo") is None
True
"""

from __future__ import annotations

import functools
import math
import re
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from harmonize.ontology import TermIndex

_N = r"\d+(?:\.\d+)?"
# RE2 (Arrow) has no lookahead: the pattern allows "P" and a trailing "T", which
# is_iso_duration / iso_duration_mask rule out separately.
ISO_DURATION = rf"^P({_N}Y)?({_N}M)?({_N}W)?({_N}D)?(T({_N}H)?({_N}M)?({_N}S)?)?$"
_ISO = re.compile(ISO_DURATION)
_WORDS = re.compile(
    r"^(\d+(?:\.\d+)?)\s*(years?|yrs?|y|months?|mos?|m|weeks?|wks?|w|days?|d)$", re.IGNORECASE
)
_UNIT = {"y": "Y", "m": "M", "w": "W", "d": "D"}


def is_iso_duration(value: str) -> bool:
    return bool(_ISO.match(value)) and value != "P" and not value.endswith("T")


def iso_duration_mask(values: pa.Array) -> pa.Array:
    """Arrow: which (non-null) values are ISO 8601 durations."""
    text = pc.fill_null(values, "")
    return pc.and_(
        pc.match_substring_regex(text, ISO_DURATION),
        pc.and_(pc.not_equal(text, "P"), pc.invert(pc.ends_with(text, "T"))),
    )


def normalize_age(value: str) -> str | None:
    """An ISO 8601 duration for ``value``, or None when it is not an age we can read."""
    text = value.strip()
    upper = text.upper()
    if is_iso_duration(upper):
        return upper
    m = _WORDS.match(text)
    if m and "." not in m.group(1):
        return f"P{m.group(1)}{_UNIT[m.group(2)[0].lower()]}"
    return None


ONSET_ROOT = "HP:0003674"


@functools.lru_cache(maxsize=4)  # per loaded index (identity): 0.2 s of walking HPO each time
def onset_terms(hpo: TermIndex) -> dict[str, tuple[str, str]]:
    """Lower-case label (and synonym-free) -> (id, label) for every HPO onset term.

    Cached per index; callers must not modify the mapping.
    """
    root = hpo.code(ONSET_ROOT)
    if root is None:
        return {}
    found: dict[str, tuple[str, str]] = {}
    for code in range(len(hpo)):
        if hpo.is_obsolete(code) or root not in hpo.ancestors(code):
            continue
        label = hpo.label(code)
        found[" ".join(label.lower().split())] = (hpo.term_id(code), label)
    return found


_FORMAT_UNIT = {"years": "Y", "months": "M", "weeks": "W", "days": "D"}


def _half_up(number: float) -> int:
    return math.floor(number + 0.5)


def age_converter(fmt: str) -> Any:
    """A bare number in `fmt` units (`4.5` years) as an ISO 8601 age; other text as `normalize_age`."""
    if fmt == "iso8601":
        return normalize_age

    def convert(value: str) -> str | None:
        try:
            number = float(value)
        except ValueError:
            return normalize_age(value)
        if not math.isfinite(number) or number < 0:  # "inf", "1e400": not an age
            return None
        if fmt == "years" and number != int(number):  # 2.5 -> P2Y6M; 4.99 -> P5Y, not P4Y12M
            years, months = divmod(_half_up(number * 12), 12)
            return f"P{years}Y{months}M" if months else f"P{years}Y"
        return f"P{_half_up(number)}{_FORMAT_UNIT[fmt]}"

    return convert
