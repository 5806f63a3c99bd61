"""What a dashboard page can refuse: sign-in needed, not found (also for what a submitter
may not see: it does not exist for them), forbidden, or a bad form."""

from __future__ import annotations

from typing import Any

from harmonize.errors import TerminalError

_HTML = {"text/html": {"schema": {"type": "string"}}}
_JSON = {
    "application/json": {
        "schema": {
            "type": "object",
            "properties": {"msg": {"type": "string"}, "status_code": {"type": "integer"}},
        }
    }
}
# OpenAPI ``responses`` of every page besides its own success: an HTML error page (or, for a
# request the service cannot route or parse, the DRS error body), or a redirect (to sign
# in, or after a form to the next page)
PAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    303: {"description": "sign in first (no credentials sent), or the page after a form"},
    400: {"description": "a malformed parameter or form", "content": {**_HTML, **_JSON}},
    401: {"description": "the credentials are not valid", "content": _HTML},
    403: {"description": "the signed-in person may not do this", "content": _HTML},
    404: {
        "description": "not found, or not visible to the signed-in person",
        "content": {**_HTML, **_JSON},
    },
}


class PageError(TerminalError):
    """A page that cannot be shown; ``status`` is the HTTP status."""

    status = 400


class SignInRequired(PageError):
    status = 401


class NotFound(PageError):
    status = 404


class Forbidden(PageError):
    status = 403


class Unavailable(PageError):
    """Busy or unreachable (the warehouse lock, the registry): try again shortly."""

    status = 503
