"""Deterministic DRS ids: replaying a submission yields the same ids, never new ones.

An object id hashes the submission id, the object's name and its sha-256; a bundle id
hashes the submission id and the manifest's sha-256 (a submission's identity). Ids use
only ``[a-z0-9]``, so they are safe in URLs and in ``drs://`` URIs without encoding.

>>> digest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
>>> oid = drs_id("sub-1", "cases.parquet", digest)
>>> oid == drs_id("sub-1", "cases.parquet", digest.upper())
True
>>> len(oid), oid.startswith("hz"), oid.isalnum() and oid == oid.lower()
(34, True, True)
>>> object_ids("sub-1")("cases.parquet", digest) == oid
True
>>> bid = bundle_id("sub-1", digest)
>>> len(bid), bid.startswith("hzb"), bid != oid
(35, True, True)
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

OBJECT_PREFIX = "hz"
BUNDLE_PREFIX = "hzb"

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def _normalise_sha256(value: str) -> str:
    digest = value.strip().lower()
    if not _SHA256_HEX.match(digest):
        raise ValueError(f"not a sha-256 hex digest: {value!r}")
    return digest


def _encode(*parts: str) -> str:
    """Lowercase base32 of the first 20 bytes of sha-256 over NUL-joined parts (32 chars)."""
    return _base32(hashlib.sha256("\0".join(parts).encode("utf-8")).digest()[:20])


# base32 two characters (10 bits) at a time: the 160 bits of an id's digest in 16 lookups,
# the same text as base64.b32encode(...).lower() (whose pure-Python loop cost more than the
# sha-256 when a commit derives 100,000 ids); tests/drs/test_ids.py holds them to the same text
_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]
_SHIFTS = tuple(range(150, -1, -10))


def _base32(digest20: bytes) -> str:
    n = int.from_bytes(digest20, "big")
    pairs = _PAIRS
    return "".join([pairs[(n >> shift) & 1023] for shift in _SHIFTS])


def object_ids(submission_id: str) -> Callable[[str, str], str]:
    """:func:`drs_id` for many files of one submission: ``make(name, sha256)``, the same
    ids, with the submission's part of the hashed text encoded once."""
    head = (submission_id + "\0").encode("utf-8")
    sha256 = hashlib.sha256
    match = _SHA256_HEX.match

    def make(name: str, digest: str) -> str:
        if not match(digest):
            digest = _normalise_sha256(digest)
        text = head + name.encode("utf-8") + b"\0" + digest.encode("ascii")
        return OBJECT_PREFIX + _base32(sha256(text).digest()[:20])

    return make


def drs_id(submission_id: str, name: str, sha256: str) -> str:
    """The DRS id of one file of a submission: ``hz`` + 32 base32 characters."""
    return OBJECT_PREFIX + _encode(submission_id, name, _normalise_sha256(sha256))


def bundle_id(submission_id: str, manifest_sha256: str) -> str:
    """The DRS id of a submission's bundle: ``hzb`` + 32 base32 characters.

    The hashed text is tagged ``bundle`` so that it can never equal an object's.
    """
    return BUNDLE_PREFIX + _encode("bundle", submission_id, _normalise_sha256(manifest_sha256))
