"""drs.ids.object_ids derives the same ids as drs_id, which every published id came from."""

from __future__ import annotations

import hashlib
import random

import pytest

from harmonize.drs.ids import drs_id, object_ids


@pytest.mark.parametrize("submission", ["s1", "sub-é/ü", ""])
def test_object_ids_are_drs_ids(submission: str) -> None:
    rng = random.Random(submission)
    make = object_ids(submission)
    for k in range(2_000):
        name = f"published/phenopackets/{submission}/v{k % 3}/P{rng.random()}é.json"
        digest = hashlib.sha256(str(k).encode()).hexdigest()
        if k % 7 == 0:
            digest = f" {digest.upper()} "  # drs_id normalises; so must the fast path
        assert make(name, digest) == drs_id(submission, name, digest)


def test_object_ids_refuse_what_drs_id_refuses() -> None:
    with pytest.raises(ValueError, match="not a sha-256"):
        object_ids("s1")("a.json", "ab" * 31)
    with pytest.raises(ValueError, match="not a sha-256"):
        drs_id("s1", "a.json", "ab" * 31)
