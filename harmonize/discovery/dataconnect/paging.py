"""``next_page_url`` tokens: what to run again, at which publication, from which row.

A token is URL-safe base64 of a small JSON object. It names the publication the first
page read: a later page is served only while that publication is still the current one
(else 410, start again), so every page of a sequence reads the same snapshot and no page
ever reads an older publication, which may hold withdrawn rows. The caller's credentials
are checked again on every page, and a search's query is checked again, so a token opens
nothing by itself.

>>> token = encode(Page(kind="table", target="individuals", seq=3, offset=100))
>>> decode(token) == Page(kind="table", target="individuals", seq=3, offset=100)
True
>>> decode("not a token")
Traceback (most recent call last):
...
ValueError: page_token is not one this service made: start again from the first page
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Page:
    kind: Literal["table", "search"]
    target: str  # a table name, or the checked SQL of a search
    seq: int  # the publication every page reads
    offset: int
    parameters: list[Any] = field(default_factory=list)


def encode(page: Page) -> str:
    raw = json.dumps(asdict(page), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str) -> Page:
    """The page a token names; ValueError when it is not one :func:`encode` made."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        values = json.loads(raw)
        page = Page(**values)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise ValueError(
            "page_token is not one this service made: start again from the first page"
        ) from exc
    ok = (
        page.kind in ("table", "search")
        and isinstance(page.target, str)
        and isinstance(page.seq, int)
        and isinstance(page.offset, int)
        and page.offset >= 0
        and isinstance(page.parameters, list)
    )
    if not ok:
        raise ValueError("page_token is not one this service made: start again from the first page")
    return page
