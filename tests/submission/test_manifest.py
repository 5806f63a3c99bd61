"""The manifest loader: every problem is a SubmissionError naming the manifest.

Regression tests for what fuzzing the loader (tests/fuzz/test_loaders.py) found.
"""

from __future__ import annotations

import pytest

from harmonize.errors import SubmissionError
from harmonize.submission.manifest import parse_manifest

GOOD = b"profile: tabular\naccess: public\nfiles: [{path: a.csv}]\n"


def test_a_good_manifest_parses() -> None:
    assert parse_manifest(GOOD).files[0].path == "a.csv"


def test_deep_nesting_is_a_submission_error() -> None:
    """Fuzzing found: 1,000 nested lists made PyYAML raise RecursionError."""
    raw = GOOD + b"consent: " + b"[" * 3000 + b"]" * 3000 + b"\n"
    with pytest.raises(SubmissionError, match="nested too deeply") as info:
        parse_manifest(raw)
    assert info.value.file == "manifest.yaml"


def test_an_impossible_date_is_a_submission_error() -> None:
    """Fuzzing found: PyYAML raises ValueError for impossible timestamps ("hour must be in
    0..23", "day is out of range for month"), which escaped as a crash."""
    for value in (b"2001-02-30", b"2024-01-02T25:61:00Z"):
        with pytest.raises(SubmissionError, match="not valid YAML"):
            parse_manifest(GOOD + b"dataset: " + value + b"\n")


@pytest.mark.parametrize("tagged", [b"!!timestamp x", b"!!bool x", b"!!int x", b"!!float 1_e"])
def test_an_explicit_tag_pyyaml_cannot_construct(tagged: bytes) -> None:
    """Fuzzing found: ``!!timestamp x`` raised AttributeError inside PyYAML (``!!bool x``
    KeyError, ``!!int x`` ValueError), escaping parse_manifest."""
    with pytest.raises(SubmissionError, match="cannot be read"):
        parse_manifest(GOOD + b"dataset: " + tagged + b"\n")
