"""Short-lived signed download URLs served by the service itself.

A signature is an HMAC-SHA256 over the object id and the expiry (Unix seconds) with
the service's URL signing key; whoever holds the URL may fetch the bytes until then,
with no other credential (as with S3 presigned URLs).

>>> signer = UrlSigner(b"k" * 32, ttl=60)
>>> expires, signature = signer.sign("hzabc", now=1000)
>>> expires, signer.valid("hzabc", expires, signature, now=1059)
(1060, True)
>>> signer.valid("hzabc", expires, signature, now=1061), signer.valid("hzabd", expires, signature, now=1000)
(False, False)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time


class UrlSigner:
    """Sign and check ``(object id, expiry)`` pairs."""

    def __init__(self, key: bytes | None, *, ttl: int) -> None:
        self._key = key or secrets.token_bytes(32)  # per process when none is configured
        self.ttl = ttl

    def _mac(self, object_id: str, expires: int) -> str:
        digest = hmac.new(self._key, f"{object_id}\n{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def sign(self, object_id: str, *, now: float | None = None) -> tuple[int, str]:
        """``(expires, signature)`` for a URL valid ``ttl`` seconds from ``now``."""
        expires = int(now if now is not None else time.time()) + self.ttl
        return expires, self._mac(object_id, expires)

    def valid(
        self, object_id: str, expires: int, signature: str, *, now: float | None = None
    ) -> bool:
        """Whether ``signature`` is ours for this id and has not expired."""
        moment = now if now is not None else time.time()
        if expires < moment:
            return False
        return hmac.compare_digest(signature.encode(), self._mac(object_id, expires).encode())
