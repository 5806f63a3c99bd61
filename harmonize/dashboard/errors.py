"""What a dashboard page can refuse: sign-in needed, not found (also for what a submitter
may not see: it does not exist for them), forbidden, or a bad form."""

from __future__ import annotations

from harmonize.errors import TerminalError


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
