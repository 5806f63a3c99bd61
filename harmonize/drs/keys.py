"""Verify JWTs from configured issuers with PyJWT: RS256/ES256 and public keys only.

A token's header algorithm must be one its issuer allows; ``alg: none`` and HS* are
refused before any key is touched, so a public key can never be used as an HMAC secret.

>>> ring = KeyRing([])
>>> ring.issuers
()
>>> ring.verify("not-a-jwt")
Traceback (most recent call last):
...
harmonize.drs.keys.InvalidToken: malformed token
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from harmonize.drs.authconfig import ALGORITHMS, TrustedIssuer
from harmonize.errors import ConfigurationError

PublicKey = RSAPublicKey | EllipticCurvePublicKey


class InvalidToken(Exception):
    """A token that cannot be trusted; the message says why (never the token itself)."""


@dataclass(frozen=True, slots=True)
class _Key:
    kid: str | None
    key: PublicKey

    def fits(self, algorithm: str) -> bool:
        if algorithm == "RS256":
            return isinstance(self.key, RSAPublicKey) and self.key.key_size >= 2048
        return isinstance(self.key, EllipticCurvePublicKey) and isinstance(
            self.key.curve, SECP256R1
        )


def _pem_key(pem: str, issuer: str) -> PublicKey:
    try:
        key = load_pem_public_key(pem.encode())
    except ValueError as exc:
        raise ConfigurationError(f"issuer {issuer}: not a PEM public key ({exc})") from exc
    if not isinstance(key, RSAPublicKey | EllipticCurvePublicKey):
        raise ConfigurationError(f"issuer {issuer}: only RSA and EC public keys are accepted")
    return key


def _jwks_keys(document: dict[str, Any], issuer: str) -> list[_Key]:
    keys = []
    for entry in document.get("keys", []):
        if entry.get("kty") not in ("RSA", "EC") or "d" in entry:
            raise ConfigurationError(f"issuer {issuer}: JWKS may hold RSA/EC public keys only")
        key = jwt.PyJWK(entry).key
        if not isinstance(key, RSAPublicKey | EllipticCurvePublicKey):
            raise ConfigurationError(f"issuer {issuer}: JWKS key is not a public key")
        keys.append(_Key(entry.get("kid"), key))
    return keys


def load_keys(issuer: TrustedIssuer) -> list[_Key]:
    """The public keys configured for ``issuer`` (inline PEM and a JWKS file)."""
    keys = [_Key(None, _pem_key(pem, issuer.issuer)) for pem in issuer.public_keys]
    if issuer.jwks_path is not None:
        try:
            document = json.loads(issuer.jwks_path.read_text())
        except (OSError, ValueError) as exc:
            raise ConfigurationError(
                f"issuer {issuer.issuer}: cannot read JWKS {issuer.jwks_path}: {exc}"
            ) from exc
        keys.extend(_jwks_keys(document, issuer.issuer))
    if not keys:
        raise ConfigurationError(f"issuer {issuer.issuer}: no public keys configured")
    return keys


class KeyRing:
    """The issuers one kind of token may come from, with their keys."""

    def __init__(self, issuers: Iterable[TrustedIssuer]) -> None:
        self._issuers = {issuer.issuer: (issuer, load_keys(issuer)) for issuer in issuers}

    @property
    def issuers(self) -> tuple[str, ...]:
        return tuple(self._issuers)

    def verify(self, token: str, *, leeway: int = 0) -> dict[str, Any]:
        """The claims of a token signed by a configured issuer; raises InvalidToken."""
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise InvalidToken("malformed token") from exc
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise InvalidToken(f"algorithm {algorithm!r} is not accepted (RS256, ES256 only)")
        found = self._issuers.get(str(unverified.get("iss")))
        if found is None:
            raise InvalidToken("issuer is not trusted")
        config, keys = found
        if algorithm not in config.algorithms:
            raise InvalidToken(f"issuer does not sign with {algorithm}")
        kid = header.get("kid")
        candidates = [
            k for k in keys if k.fits(algorithm) and (kid is None or k.kid in (None, kid))
        ]
        if not candidates:
            raise InvalidToken("no trusted key for this token")
        required = ["exp", "iss"] + (["aud"] if config.audience else [])
        problem = "signature verification failed"
        for candidate in candidates:
            try:
                claims: dict[str, Any] = jwt.decode(
                    token,
                    candidate.key,
                    algorithms=[algorithm],
                    audience=config.audience,
                    issuer=config.issuer,
                    leeway=leeway,
                    options={"require": required, "verify_aud": config.audience is not None},
                )
            except jwt.InvalidSignatureError:
                continue
            except jwt.ExpiredSignatureError as exc:
                raise InvalidToken("token expired") from exc
            except jwt.PyJWTError as exc:
                problem = str(exc)
                break
            return claims
        raise InvalidToken(problem)
