"""DRS URIs: hostname-based ``drs://host/id`` and compact ``drs://prefix:accession``.

A compact URI names a namespace registered at identifiers.org / n2t.net that resolves
to ``https://<host>/ga4gh/drs/v1/objects/<accession>``. This service answers for one
prefix (``DrsSettings.compact_prefix``): the path id ``prefix:accession`` is the object
``accession``, so a resolver may forward the whole compact id. An optional provider
code (``drs://provider/prefix:accession``) is accepted and ignored.

>>> parse_drs_uri("drs://drs.example.org/hzabc")
DrsUri(host='drs.example.org', prefix=None, accession='hzabc')
>>> parse_drs_uri("drs://hz.drs:hzabc")
DrsUri(host=None, prefix='hz.drs', accession='hzabc')
>>> parse_drs_uri("drs://provider/hz.drs:hzabc").prefix
'hz.drs'
>>> local_id("hz.drs:hzabc", "hz.drs"), local_id("hzabc", "hz.drs"), local_id("x:y", None)
('hzabc', 'hzabc', 'x:y')
>>> parse_drs_uri("https://x/y")
Traceback (most recent call last):
...
ValueError: not a DRS URI: 'https://x/y'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HOSTNAME = re.compile(r"^drs://(?P<host>[A-Za-z0-9.-]+(?::\d+)?)/(?P<id>[^/?#]+)$")
_COMPACT = re.compile(
    r"^drs://(?:(?P<provider>[A-Za-z0-9._-]+)/)?(?P<prefix>[A-Za-z0-9._]+):(?P<accession>[^/?#]+)$"
)


@dataclass(frozen=True, slots=True)
class DrsUri:
    """A parsed DRS URI: either ``host`` (hostname-based) or ``prefix`` (compact)."""

    host: str | None
    prefix: str | None
    accession: str


def parse_drs_uri(uri: str) -> DrsUri:
    """Split a DRS URI; a ``host:port`` form is read as hostname-based."""
    hostname = _HOSTNAME.match(uri)
    if hostname and not _COMPACT.match(uri):
        return DrsUri(host=hostname["host"], prefix=None, accession=hostname["id"])
    compact = _COMPACT.match(uri)
    if compact:
        return DrsUri(host=None, prefix=compact["prefix"], accession=compact["accession"])
    if hostname:
        return DrsUri(host=hostname["host"], prefix=None, accession=hostname["id"])
    raise ValueError(f"not a DRS URI: {uri!r}")


def local_id(object_id: str, prefix: str | None) -> str:
    """The registry id behind a path id, stripping this service's compact prefix."""
    if prefix and object_id.startswith(f"{prefix}:"):
        return object_id[len(prefix) + 1 :]
    return object_id


def compact_uri(object_id: str, prefix: str) -> str:
    """``drs://prefix:id``."""
    return f"drs://{prefix}:{object_id}"
