"""Who may read a controlled object: bearer JWTs and GA4GH Passports.

Objects of ``public`` submissions are open. A ``controlled`` object of dataset ``d`` is
open to a caller whose credentials (an ``Authorization: Bearer`` JWT, or passports
POSTed in the body) carry a valid ``ControlledAccessGrants`` visa for
``settings.auth.visa_value(d)`` (see :mod:`harmonize.drs.passports`).

Answers: no credentials, 401; a credential that cannot be trusted (bad signature,
``alg: none``, expired, untrusted issuer, revoked ``jti``), 401; trusted credentials
without a grant for the object's dataset, 403. An id that is not registered is answered
as a controlled object the caller may not read, so a 401/403 never tells whether a
controlled object exists.

>>> caller = Caller(presented=False)
>>> decide("public", "demo", caller), decide("controlled", "demo", caller)
(None, 401)
>>> trusted = Caller(presented=True, grants=frozenset({"https://x/datasets/demo"}))
>>> decide("controlled", "https://x/datasets/demo", trusted) is None
True
>>> decide("controlled", "https://x/datasets/other", trusted), decide("public", None, trusted)
(403, 403)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from harmonize.drs.authconfig import AuthSettings
from harmonize.drs.keys import InvalidToken, KeyRing
from harmonize.drs.passports import passport_grants


@dataclass(frozen=True, slots=True)
class Caller:
    """What a request's credentials prove: nothing, a problem, or grants."""

    presented: bool
    problem: str | None = None  # why a presented credential is not trusted
    grants: frozenset[str] = field(default_factory=frozenset)  # visa values


def decide(access: str, value: str | None, caller: Caller) -> int | None:
    """None when ``caller`` may read an object of ``access`` and visa ``value``, else 401/403.

    ``value`` None stands for an id that is not registered: always denied.
    """
    if access == "public" and value is not None:
        return None
    if not caller.presented or caller.problem is not None:
        return 401
    if value is None or value not in caller.grants:
        return 403
    return None


class _Revocations:
    """Revoked ``jti``s: the configured set plus a file re-read when it changes."""

    def __init__(self, inline: frozenset[str], path: Path | None) -> None:
        self._inline = inline
        self._path = path
        self._stamp: tuple[int, int] | None = None
        self._from_file: frozenset[str] = frozenset()

    def current(self) -> frozenset[str]:
        if self._path is None:
            return self._inline
        try:
            stat = self._path.stat()
        except FileNotFoundError:
            return self._inline
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            lines = self._path.read_text().splitlines()
            self._from_file = frozenset(
                line.strip() for line in lines if line.strip() and not line.startswith("#")
            )
            self._stamp = stamp
        return self._inline | self._from_file


class Authority:
    """The trusted issuers and revocations of one service, built once per app."""

    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings
        self.tokens = KeyRing(settings.token_issuers)
        self.visas = KeyRing(settings.visa_issuers)
        self._revocations = _Revocations(settings.revoked_jtis, settings.revocation_file)

    def caller(
        self, bearer: str | None, passports: list[str] | None, *, now: float | None = None
    ) -> Caller:
        """Verify every credential of a request; one untrusted credential spoils them all."""
        tokens = ([bearer] if bearer else []) + list(passports or [])
        if not tokens:
            return Caller(presented=False)
        moment = int(now if now is not None else time.time())
        revoked = self._revocations.current()
        leeway = self.settings.leeway_seconds
        grants: set[str] = set()
        for token in tokens:
            try:
                claims = self.tokens.verify(token, leeway=leeway)
            except InvalidToken as exc:
                return Caller(presented=True, problem=str(exc))
            if claims.get("jti") in revoked:
                return Caller(presented=True, problem="token revoked")
            grants |= passport_grants(
                claims, self.visas, revoked=revoked, now=moment, leeway=leeway
            )
        return Caller(presented=True, grants=frozenset(grants))
