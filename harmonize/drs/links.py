"""How the service names itself: ``drs://`` self URIs and the URLs of its own routes.

>>> links = Links(host="drs.example.org", base_url="https://drs.example.org/")
>>> links.self_uri("hzabc")
'drs://drs.example.org/hzabc'
>>> links.download_url("hzabc")
'https://drs.example.org/ga4gh/drs/v1/objects/hzabc/download'
"""

from __future__ import annotations

from dataclasses import dataclass

API_PREFIX = "/ga4gh/drs/v1"


@dataclass(frozen=True, slots=True)
class Links:
    """The host of ``drs://`` URIs and the public base URL of the service."""

    host: str
    base_url: str
    compact_prefix: str | None = None  # also name objects drs://prefix:id

    def drs_uris(self, object_id: str) -> list[str]:
        """The hostname-based URI, then the compact one when a prefix is configured."""
        uris = [self.self_uri(object_id)]
        if self.compact_prefix:
            uris.append(f"drs://{self.compact_prefix}:{object_id}")
        return uris

    def self_uri(self, object_id: str) -> str:
        """The hostname-based DRS URI of an object."""
        return f"drs://{self.host}/{object_id}"

    def download_url(self, object_id: str) -> str:
        """Where the object's bytes are served (the service's own download route)."""
        return f"{self.base_url.rstrip('/')}{API_PREFIX}/objects/{object_id}/download"
