"""Data Connect's settings: page size, the SQL sandbox's limits.

>>> DataConnectSettings().timeout_seconds
10.0
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from harmonize.strict import StrictModel


class DataConnectSettings(StrictModel):
    """How ``/ga4gh/data-connect/v1`` pages and how far one ``POST /search`` may go."""

    page_size: int = Field(default=100, ge=1, le=10_000)  # rows per TableData page
    timeout_seconds: float = Field(default=10.0, gt=0, le=600)  # one statement, then interrupted
    memory_limit: str = Field(default="512MB", pattern=r"^[0-9]+(\.[0-9]+)?\s*[KMGT]?i?B$")
    threads: int = Field(default=1, ge=1, le=64)  # DuckDB threads per query
    max_query_chars: int = Field(default=20_000, ge=100, le=1_000_000)
    # queries run at once per process (each may take memory_limit); more wait queue_seconds,
    # then are answered 503 with Retry-After
    max_concurrent: int = Field(default=2, ge=1, le=256)
    queue_seconds: float = Field(default=5.0, ge=0, le=600)


class DataConnectEnvSettings(BaseSettings):
    """``HARMONIZE_DATACONNECT_*`` variables (``PAGE_SIZE``, ``TIMEOUT_SECONDS``,
    ``MEMORY_LIMIT``, ``THREADS``, ``MAX_QUERY_CHARS``, ``MAX_CONCURRENT``, ``QUEUE_SECONDS``);
    only for the edges."""

    model_config = SettingsConfigDict(env_prefix="HARMONIZE_DATACONNECT_", extra="ignore")

    page_size: int | None = None
    timeout_seconds: float | None = None
    memory_limit: str | None = None
    threads: int | None = None
    max_query_chars: int | None = None
    max_concurrent: int | None = None
    queue_seconds: float | None = None

    def to_settings(self) -> DataConnectSettings:
        return DataConnectSettings(**self.model_dump(exclude_none=True))
