"""Keys, issuers and token minting for the access-control tests (made at test time).

A broker (RS256) signs bearer tokens and passports; a data access committee (ES256)
signs ControlledAccessGrants visas; a rogue issuer with its own keys is trusted by no one.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from harmonize.drs.authconfig import AuthSettings, TrustedIssuer

BROKER = "https://broker.example.org"
DAC = "https://dac.example.org"
ROGUE = "https://rogue.example.org"
AUDIENCE = "https://drs.example.org"
VISA_TEMPLATE = "https://example.org/harmonize/datasets/{dataset}"


@dataclass
class Issuer:
    name: str
    algorithm: str
    kid: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    @cached_property
    def private_key(self) -> Any:
        if self.algorithm == "RS256":
            return rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return ec.generate_private_key(ec.SECP256R1())

    def public_pem(self) -> str:
        return (
            self.private_key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def sign(self, claims: dict[str, Any], **headers: Any) -> str:
        return jwt.encode(
            claims, self.private_key, algorithm=self.algorithm, headers={"kid": self.kid, **headers}
        )


@dataclass
class Kit:
    broker: Issuer = field(default_factory=lambda: Issuer(BROKER, "RS256"))
    dac: Issuer = field(default_factory=lambda: Issuer(DAC, "ES256"))
    rogue: Issuer = field(default_factory=lambda: Issuer(ROGUE, "RS256"))

    def auth_settings(self, **overrides: Any) -> AuthSettings:
        values: dict[str, Any] = {
            "token_issuers": [
                TrustedIssuer(
                    issuer=BROKER, public_keys=[self.broker.public_pem()], audience=AUDIENCE
                )
            ],
            "visa_issuers": [TrustedIssuer(issuer=DAC, public_keys=[self.dac.public_pem()])],
            "dataset_visa_value": VISA_TEMPLATE,
        }
        values.update(overrides)
        return AuthSettings(**values)

    def visa(
        self,
        dataset: str = "demo",
        *,
        issuer: Issuer | None = None,
        expires_in: int = 3600,
        jti: str | None = None,
        sub: str = "alice",
        kind: str = "ControlledAccessGrants",
        **extra: Any,
    ) -> str:
        now = int(time.time())
        visa = {
            "type": kind,
            "value": VISA_TEMPLATE.format(dataset=dataset),
            "source": "https://dac.example.org/committees/1",
            "by": "dac",
            "asserted": now - 60,
            **extra,
        }
        signer = issuer or self.dac
        claims = {
            "iss": signer.name,
            "sub": sub,
            "iat": now,
            "exp": now + expires_in,
            "jti": jti or uuid.uuid4().hex,
            "ga4gh_visa_v1": visa,
        }
        return signer.sign(claims)

    def passport(
        self,
        visas: list[str],
        *,
        issuer: Issuer | None = None,
        expires_in: int = 3600,
        jti: str | None = None,
        sub: str = "alice",
        audience: str | None = AUDIENCE,
    ) -> str:
        now = int(time.time())
        signer = issuer or self.broker
        claims: dict[str, Any] = {
            "iss": signer.name,
            "sub": sub,
            "iat": now,
            "exp": now + expires_in,
            "jti": jti or uuid.uuid4().hex,
            "ga4gh_passport_v1": visas,
        }
        if audience is not None:
            claims["aud"] = audience
        return signer.sign(claims)

    def token_for(self, dataset: str = "demo") -> str:
        """A bearer token that is a passport with one grant for ``dataset``."""
        return self.passport([self.visa(dataset)])


KIT = Kit()
