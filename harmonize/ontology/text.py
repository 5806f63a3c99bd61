"""Lookup keys for term text: how a messy label is matched to a clean one.

Two keys, from strict to loose. :func:`casefold_key` ignores case and runs of
whitespace. :func:`normalized_key` also drops punctuation, the words "a", "an", "of"
and "the", a simple plural ending, and word order.

>>> casefold_key("  Generalized   SEIZURE ")
'generalized seizure'
>>> normalized_key("Seizures, generalized.")
'generalized seizure'
>>> normalized_key("Abnormality of the HEART") == normalized_key("heart abnormalities")
True
"""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[^\W_]+")
_STOP_WORDS = frozenset({"a", "an", "of", "the"})


def casefold_key(text: str) -> str:
    """Unicode-normalized, case-folded text with whitespace runs collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def normalized_key(text: str) -> str:
    """Sorted singular words of ``text`` without punctuation or stop words."""
    return " ".join(sorted(key_words(text)))


def key_words(text: str) -> list[str]:
    """The singular words of ``text`` in order, without punctuation or stop words.

    >>> key_words("Sotos syndrome, type 1")
    ['soto', 'syndrome', 'type', '1']
    """
    words = _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
    return [_singular(word) for word in words if word not in _STOP_WORDS]


def _singular(word: str) -> str:
    """Strip a simple English plural ending; good enough for matching, not grammar."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word
