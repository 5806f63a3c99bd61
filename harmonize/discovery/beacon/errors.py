"""Errors a Beacon answers with its error response (``beaconErrorResponse``)."""

from __future__ import annotations

from typing import Any

from harmonize.errors import TerminalError


class BeaconRequestError(TerminalError):
    """A request the Beacon cannot answer as asked: the message names what is wrong."""

    def __init__(
        self, message: str, *, status: int = 400, value: Any = None, hint: str | None = None
    ) -> None:
        super().__init__(message, value=value, hint=hint)
        self.status = status


class FilterError(BeaconRequestError):
    """A filter that is malformed, unknown, or asks for what is not supported."""

    def __init__(self, filter_id: str, problem: str, *, hint: str | None = None) -> None:
        super().__init__(f"filter {filter_id!r}: {problem}", value=filter_id, hint=hint)
        self.filter_id = filter_id
