"""How controlled objects are opened: trusted token issuers, visa issuers, revocations.

Part of :class:`harmonize.drs.config.DrsSettings` (``settings.auth``). Only RS256 and
ES256 are ever accepted; keys are public keys (inline PEM) or a JWKS file per issuer.
An object of dataset ``d`` is opened by a ``ControlledAccessGrants`` visa whose
``value`` is ``dataset_visa_value.format(dataset=d)``.

>>> auth = AuthSettings(dataset_visa_value="https://data.example.org/datasets/{dataset}")
>>> auth.visa_value("demo")
'https://data.example.org/datasets/demo'
>>> AuthSettings(dataset_visa_value="https://x/{nope}")
Traceback (most recent call last):
...
pydantic_core._pydantic_core.ValidationError: 1 validation error for AuthSettings
...
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from harmonize.strict import StrictModel

Algorithm = Literal["RS256", "ES256"]
ALGORITHMS: tuple[Algorithm, ...] = ("RS256", "ES256")


class TrustedIssuer(StrictModel):
    """One issuer (the ``iss`` claim) and the public keys its tokens are checked with."""

    issuer: str = Field(min_length=1)
    public_keys: list[str] = Field(default_factory=list, repr=False)  # inline PEM
    jwks_path: Path | None = None
    algorithms: list[Algorithm] = Field(default_factory=lambda: list(ALGORITHMS))
    audience: str | None = None  # required ``aud`` when set


class AuthSettings(StrictModel):
    """Who may read controlled objects, and the admin API's secret."""

    token_issuers: list[TrustedIssuer] = Field(default_factory=list)  # bearer tokens, passports
    visa_issuers: list[TrustedIssuer] = Field(default_factory=list)  # allow-listed visa signers
    dataset_visa_value: str = "https://example.org/harmonize/datasets/{dataset}"
    revoked_jtis: frozenset[str] = frozenset()  # token, passport or visa ``jti``s
    revocation_file: Path | None = None  # one revoked ``jti`` per line, re-read when changed
    leeway_seconds: int = Field(default=30, ge=0, le=300)
    admin_token: SecretStr | None = None  # the registration API is closed without one
    url_signing_key: SecretStr | None = None  # default: a random key per process
    signed_url_ttl_seconds: int = Field(default=300, ge=1, le=86_400)

    @field_validator("dataset_visa_value")
    @classmethod
    def _one_placeholder(cls, value: str) -> str:
        try:
            value.format(dataset="x")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"dataset_visa_value may only use {{dataset}}: {value!r}") from exc
        return value

    def visa_value(self, dataset: str) -> str:
        """The visa ``value`` that grants ``dataset``."""
        return self.dataset_visa_value.format(dataset=dataset)
