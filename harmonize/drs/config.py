"""Settings of the DRS service.

:class:`DrsSettings` is what :func:`harmonize.drs.app.create_app` takes; the library never
reads the environment. :class:`DrsEnvSettings` is the edge: the one pydantic-settings class
that reads ``HARMONIZE_DRS_*`` variables when the service is started by uvicorn.

>>> settings = DrsEnvSettings(workspace="ws", admin_token="s3cret").to_settings()
>>> settings.registry_url.endswith("ws/registry.sqlite"), settings.max_bulk_request_length
(True, 1000)
>>> "s3cret" in repr(settings), settings.auth.admin_token.get_secret_value()
(False, 's3cret')

Access control (trusted issuers, visa issuers, revocations) comes from a JSON or YAML
file named by ``HARMONIZE_DRS_AUTH_FILE`` (an :class:`~harmonize.drs.authconfig.AuthSettings`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from harmonize.drs.authconfig import AuthSettings
from harmonize.drs.stores import S3Settings
from harmonize.strict import describe


def default_registry_url(workspace: Path) -> str:
    """The embedded registry: SQLite in the workspace (as :class:`harmonize.settings.Settings`)."""
    return f"sqlite:///{(workspace / 'registry.sqlite').resolve()}"


class DrsSettings(BaseModel):
    """Where the files and the registry are, and how the service presents itself."""

    workspace: Path
    registry_url: str
    max_bulk_request_length: int = Field(default=1000, ge=1)
    max_request_bytes: int = Field(default=2_000_000, ge=1024)  # larger bodies answer 413
    hostname: str | None = None  # host of drs:// self URIs; default: the request's Host
    public_url: str | None = None  # e.g. http://127.0.0.1:8080; default: the request's base URL
    expose_file_urls: bool = True  # offer a file:// access method next to https
    auth: AuthSettings = Field(default_factory=AuthSettings)  # who opens controlled objects
    s3: S3Settings | None = None  # the published files live in a bucket (s3 access method)
    compact_prefix: str | None = None  # ids "prefix:accession" of drs://prefix:accession
    service_id: str = "org.harmonize.drs"
    service_name: str = "Harmonize DRS"
    organization_name: str = "Harmonize"
    organization_url: str = "https://example.org/harmonize"


class DrsEnvSettings(BaseSettings):
    """``HARMONIZE_DRS_*`` environment variables; only for the edges."""

    model_config = SettingsConfigDict(env_prefix="HARMONIZE_DRS_", extra="ignore")

    workspace: Path = Path("workspace")
    registry_url: str | None = None
    max_bulk_request_length: int = Field(default=1000, ge=1)
    max_request_bytes: int = Field(default=2_000_000, ge=1024)
    hostname: str | None = None
    public_url: str | None = None
    expose_file_urls: bool = True
    auth_file: Path | None = None  # JSON/YAML AuthSettings
    admin_token: SecretStr | None = None
    url_signing_key: SecretStr | None = None
    s3_bucket: str | None = None
    s3_prefix: str = ""
    s3_region: str | None = None
    s3_endpoint_url: str | None = None
    compact_prefix: str | None = None
    service_id: str = "org.harmonize.drs"
    service_name: str = "Harmonize DRS"
    organization_name: str = "Harmonize"
    organization_url: str = "https://example.org/harmonize"

    def to_settings(self) -> DrsSettings:
        """The plain settings the app takes."""
        values = self.model_dump(
            exclude={"auth_file", "admin_token", "url_signing_key"}
            | {name for name in type(self).model_fields if name.startswith("s3_")}
        )
        values["registry_url"] = self.registry_url or default_registry_url(self.workspace)
        auth: dict[str, Any] = {}
        if self.auth_file is not None:
            text = self.auth_file.read_text()
            loaded = json.loads(text) if self.auth_file.suffix == ".json" else yaml.safe_load(text)
            auth = dict(loaded or {})
        for name in ("admin_token", "url_signing_key"):
            secret = getattr(self, name)
            if secret is not None:
                auth[name] = secret
        try:
            values["auth"] = AuthSettings.model_validate(auth)
        except ValidationError as exc:
            where = self.auth_file or "HARMONIZE_DRS_AUTH_FILE"
            raise ValueError(f"{where}: {describe(exc, AuthSettings)}") from exc
        if self.s3_bucket:
            values["s3"] = S3Settings(
                bucket=self.s3_bucket,
                prefix=self.s3_prefix,
                region=self.s3_region,
                endpoint_url=self.s3_endpoint_url,
            )
        return DrsSettings(**values)
