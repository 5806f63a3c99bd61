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


def test_ids_keep_the_base32_spelling_of_published_ids() -> None:
    """Every id is base32 of 20 digest bytes, lowercase: the spelling of every id already
    published (``base64.b32encode``), now written by a faster encoder."""
    import base64

    from harmonize.drs.ids import _base32, bundle_id

    rng = random.Random(7)
    for _ in range(2_000):
        digest = rng.randbytes(20)
        assert _base32(digest) == base64.b32encode(digest).decode("ascii").lower()
    for edge in (bytes(20), b"\xff" * 20):
        assert _base32(edge) == base64.b32encode(edge).decode("ascii").lower()
    sha = hashlib.sha256(b"x").hexdigest()
    text = f"s1\0a.json\0{sha}".encode()
    expected = "hz" + base64.b32encode(hashlib.sha256(text).digest()[:20]).decode().lower()
    assert drs_id("s1", "a.json", sha) == expected
    text = f"bundle\0s1\0{sha}".encode()
    expected = "hzb" + base64.b32encode(hashlib.sha256(text).digest()[:20]).decode().lower()
    assert bundle_id("s1", sha) == expected
