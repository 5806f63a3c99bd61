"""Settings of the DRS service.

:class:`DrsSettings` is what :func:`harmonize.drs.app.create_app` takes; the library never
reads the environment. :class:`DrsEnvSettings` is the edge: the one pydantic-settings class
that reads ``HARMONIZE_DRS_*`` variables when the service is started by uvicorn.

>>> settings = DrsEnvSettings(workspace="ws", controlled_token="s3cret").to_settings()
>>> settings.registry_url.endswith("ws/registry.sqlite"), settings.max_bulk_request_length
(True, 1000)
>>> "s3cret" in repr(settings)
False
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_registry_url(workspace: Path) -> str:
    """The embedded registry: SQLite in the workspace (as :class:`harmonize.settings.Settings`)."""
    return f"sqlite:///{(workspace / 'registry.sqlite').resolve()}"


class DrsSettings(BaseModel):
    """Where the files and the registry are, and how the service presents itself."""

    workspace: Path
    registry_url: str
    max_bulk_request_length: int = Field(default=1000, ge=1)
    hostname: str | None = None  # host of drs:// self URIs; default: the request's Host
    public_url: str | None = None  # e.g. http://127.0.0.1:8080; default: the request's base URL
    controlled_token: str | None = Field(default=None, repr=False)  # opens controlled objects
    expose_file_urls: bool = True  # offer a file:// access method next to https
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
    hostname: str | None = None
    public_url: str | None = None
    controlled_token: str | None = Field(default=None, repr=False)
    expose_file_urls: bool = True
    service_id: str = "org.harmonize.drs"
    service_name: str = "Harmonize DRS"
    organization_name: str = "Harmonize"
    organization_url: str = "https://example.org/harmonize"

    def to_settings(self) -> DrsSettings:
        """The plain settings the app takes."""
        values = self.model_dump()
        values["registry_url"] = self.registry_url or default_registry_url(self.workspace)
        return DrsSettings(**values)
