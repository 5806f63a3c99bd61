"""Who may read a controlled object.

For now one static bearer token opens every controlled object; a later issue replaces
this with JWTs and GA4GH Passports. Public objects ignore credentials.

>>> denial("public", None, None) is None
True
>>> denial("controlled", None, "s3cret"), denial("controlled", "guess", "s3cret")
(401, 403)
>>> denial("controlled", "s3cret", "s3cret") is None
True
"""

from __future__ import annotations

import hmac


def denial(access: str, token: str | None, expected: str | None) -> int | None:
    """401 without a token, 403 with a wrong one, None when access is granted."""
    if access != "controlled":
        return None
    if token is None:
        return 401
    if expected is None or not hmac.compare_digest(token.encode(), expected.encode()):
        return 403
    return None
