"""Settings of the curator dashboard: who may sign in, and where submissions can be re-run from.

:class:`DashboardSettings` is what :func:`harmonize.dashboard.mount` takes; the library never
reads the environment. :class:`DashboardEnvSettings` reads ``HARMONIZE_DASHBOARD_*`` variables
for ``harmonize serve``. Secrets (the cookie key, the tokens) have no defaults and stay out of
``repr``.

>>> s = DashboardSettings(secret_key="k" * 32, tokens=[AccessToken(token="t" * 24,
...     role="curator", name="dr.curator")])
>>> s.tokens[0].role, "k" * 32 in repr(s), "t" * 24 in repr(s)
('curator', False, False)
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from harmonize.settings import Settings
from harmonize.strict import StrictModel, describe

Role = Literal["curator", "submitter"]


class AccessToken(StrictModel):
    """A configured sign-in token: who it is, their role, and the datasets they belong to.

    Give ``token_sha256`` (the hex sha-256 of the token) to keep the token itself out of the
    configuration file, or ``token`` for tests and demos.
    """

    role: Role
    name: str
    datasets: list[str] = Field(default_factory=list)
    token: str | None = Field(default=None, repr=False, min_length=16)
    token_sha256: str | None = Field(default=None, repr=False, pattern=r"^[0-9a-f]{64}$")

    @model_validator(mode="after")
    def _one_secret(self) -> AccessToken:
        if (self.token is None) == (self.token_sha256 is None):
            raise ValueError("give exactly one of token and token_sha256")
        return self

    @property
    def digest(self) -> str:
        """The hex sha-256 the presented token is compared with."""
        if self.token_sha256 is not None:
            return self.token_sha256
        assert self.token is not None
        return hashlib.sha256(self.token.encode()).hexdigest()


class JwtSettings(StrictModel):
    """OIDC-style bearer JWTs, verified with a public key (no shared secret)."""

    public_key: str = Field(repr=False)  # PEM
    algorithms: list[str] = Field(default_factory=lambda: ["RS256", "ES256"])
    audience: str | None = None
    issuer: str | None = None
    role_claim: str = "harmonize_role"
    datasets_claim: str = "harmonize_datasets"
    name_claim: str = "sub"


class DashboardSettings(BaseModel):
    """Who may sign in, how sessions are signed, and what the dashboard can reach."""

    secret_key: str = Field(repr=False, min_length=32)  # signs session cookies
    tokens: list[AccessToken] = Field(default_factory=list)
    jwt: JwtSettings | None = None
    landing_dir: Path | None = None  # <landing_dir>/<submission_id>/manifest.yaml: re-runnable
    pipeline: Settings | None = None  # default: the DRS service's workspace and registry
    session_hours: float = Field(default=12.0, gt=0)
    secure_cookies: bool = False  # set behind HTTPS
    page_size: int = Field(default=50, ge=1, le=500)


class DashboardEnvSettings(BaseSettings):
    """``HARMONIZE_DASHBOARD_*`` variables; only for the edges.

    ``TOKENS_FILE`` is a JSON list of :class:`AccessToken`; ``JWT_PUBLIC_KEY_FILE`` a PEM file.
    """

    model_config = SettingsConfigDict(env_prefix="HARMONIZE_DASHBOARD_", extra="ignore")

    secret_key: str | None = Field(default=None, repr=False)
    tokens_file: Path | None = None
    jwt_public_key_file: Path | None = None
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    landing_dir: Path | None = None
    secure_cookies: bool = False

    def to_settings(self) -> DashboardSettings | None:
        """The dashboard's settings, or ``None`` when no way to sign in is configured."""
        if self.tokens_file is None and self.jwt_public_key_file is None:
            return None
        if not self.secret_key:
            raise ValueError("HARMONIZE_DASHBOARD_SECRET_KEY is required to serve the dashboard")
        tokens: list[AccessToken] = []
        if self.tokens_file is not None:
            raw = json.loads(self.tokens_file.read_text(encoding="utf-8"))
            if not isinstance(raw, list):
                raise ValueError(f"{self.tokens_file}: a JSON list of tokens is expected")
            for n, item in enumerate(raw):
                try:
                    tokens.append(AccessToken.model_validate(item))
                except ValidationError as exc:
                    raise ValueError(
                        f"{self.tokens_file}: token {n}: {describe(exc, AccessToken)}"
                    ) from exc
        jwt = None
        if self.jwt_public_key_file is not None:
            jwt = JwtSettings(
                public_key=self.jwt_public_key_file.read_text(encoding="utf-8"),
                audience=self.jwt_audience,
                issuer=self.jwt_issuer,
            )
        return DashboardSettings(
            secret_key=self.secret_key,
            tokens=tokens,
            jwt=jwt,
            landing_dir=self.landing_dir,
            secure_cookies=self.secure_cookies,
        )
