"""Settings of the submissions API: who may submit (tokens), where uploads go, size limits.

:class:`IntakeSettings` is what :func:`harmonize.intake.api.mount` takes; the library never
reads the environment. :class:`IntakeEnvSettings` reads ``HARMONIZE_INTAKE_*`` variables for
``harmonize serve``. The tokens are secrets: no default, never in ``repr``, and without them
the API is not served at all.

>>> s = IntakeEnvSettings(tokens={"t" * 24: "Example Clinic"}).to_settings()
>>> s is not None and s.submitter_for("t" * 24), "t" * 24 in repr(s)
('Example Clinic', False)
>>> IntakeEnvSettings().to_settings() is None
True
"""

from __future__ import annotations

import hmac

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MB = 1024 * 1024


class IntakeSettings(BaseModel):
    """The submissions API's own settings (the workspace and registry come from DRS)."""

    tokens: dict[str, str] = Field(repr=False, min_length=1)  # bearer token -> submitter name
    events_url: str | None = None  # default: WORKSPACE/events (a local log)
    landing_url: str | None = None  # default: WORKSPACE/landing
    s3_endpoint_url: str | None = None
    max_file_bytes: int = Field(default=512 * MB, ge=1)
    max_request_bytes: int = Field(default=2048 * MB, ge=1)
    max_manifest_bytes: int = Field(default=1 * MB, ge=1)
    max_files: int = Field(default=10_000, ge=1)

    @field_validator("tokens")
    @classmethod
    def _strong(cls, v: dict[str, str]) -> dict[str, str]:
        short = [name for token, name in v.items() if len(token) < 16]
        if short:
            raise ValueError(f"tokens must have at least 16 characters (submitters {short})")
        return v

    def submitter_for(self, token: str) -> str | None:
        """The submitter a presented token belongs to (constant-time comparisons)."""
        found = None
        for known, name in self.tokens.items():
            if hmac.compare_digest(known.encode(), token.encode()):
                found = name
        return found


class IntakeEnvSettings(BaseSettings):
    """``HARMONIZE_INTAKE_*`` variables (``HARMONIZE_INTAKE_TOKENS`` is JSON); only for edges."""

    model_config = SettingsConfigDict(env_prefix="HARMONIZE_INTAKE_", extra="ignore")

    tokens: dict[str, str] = Field(default_factory=dict, repr=False)
    events_url: str | None = None
    landing_url: str | None = None
    s3_endpoint_url: str | None = None
    max_file_bytes: int = Field(default=512 * MB, ge=1)
    max_request_bytes: int = Field(default=2048 * MB, ge=1)
    max_manifest_bytes: int = Field(default=1 * MB, ge=1)
    max_files: int = Field(default=10_000, ge=1)

    def to_settings(self) -> IntakeSettings | None:
        """The plain settings, or None when no token is configured (the API stays off)."""
        if not self.tokens:
            return None
        return IntakeSettings(**self.model_dump())
