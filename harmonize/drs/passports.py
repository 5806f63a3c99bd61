"""GA4GH Passports: which datasets a passport's ``ControlledAccessGrants`` visas open.

A passport is a JWT from a trusted broker (:class:`~harmonize.drs.keys.KeyRing` of token
issuers) whose ``ga4gh_passport_v1`` claim lists visa JWTs. A visa counts when it is
signed by an allow-listed visa issuer, is not expired or revoked, belongs to the
passport's subject, was asserted in the past, carries no ``conditions`` (not evaluated
here), and its ``ga4gh_visa_v1`` object is of type ``ControlledAccessGrants`` with
``value``, ``source`` and ``by``. Visas that do not count are skipped, not fatal: a
passport may carry visas for other services.

>>> grant({"type": "ControlledAccessGrants", "value": "https://x/datasets/d",
...        "source": "https://dac.example.org", "by": "dac", "asserted": 1}, now=10)
'https://x/datasets/d'
>>> grant({"type": "AffiliationAndRole", "value": "faculty@x", "source": "s", "by": "so",
...        "asserted": 1}, now=10) is None
True
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any

from harmonize.drs.keys import InvalidToken, KeyRing

log = logging.getLogger(__name__)

PASSPORT_CLAIM = "ga4gh_passport_v1"
VISA_CLAIM = "ga4gh_visa_v1"
GRANT_TYPE = "ControlledAccessGrants"


def grant(visa: Any, *, now: int, leeway: int = 0) -> str | None:
    """The dataset ``value`` a visa object grants, or None when it grants nothing."""
    if not isinstance(visa, dict) or visa.get("type") != GRANT_TYPE:
        return None
    value, asserted = visa.get("value"), visa.get("asserted")
    if not isinstance(value, str) or not value:
        return None
    if not isinstance(visa.get("source"), str) or not isinstance(visa.get("by"), str):
        return None
    if not isinstance(asserted, int) or isinstance(asserted, bool) or asserted > now + leeway:
        return None
    if "conditions" in visa:  # conditional grants are not evaluated: never open anything
        return None
    return value


def passport_grants(
    claims: dict[str, Any],
    visas: KeyRing,
    *,
    revoked: Collection[str],
    now: int,
    leeway: int = 0,
) -> set[str]:
    """Dataset values granted by the visas of a verified passport's ``claims``."""
    granted: set[str] = set()
    listed = claims.get(PASSPORT_CLAIM, [])
    if not isinstance(listed, list):
        return granted
    subject = claims.get("sub")
    for token in listed:
        if not isinstance(token, str):
            continue
        try:
            visa_claims = visas.verify(token, leeway=leeway)
        except InvalidToken as exc:
            log.info("visa skipped: %s", exc)
            continue
        if visa_claims.get("jti") in revoked:
            log.info("visa skipped: revoked")
            continue
        if subject is not None and visa_claims.get("sub") != subject:
            log.info("visa skipped: another subject")
            continue
        value = grant(visa_claims.get(VISA_CLAIM), now=now, leeway=leeway)
        if value is not None:
            granted.add(value)
    return granted
