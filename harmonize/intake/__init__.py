"""Intake: submitters' uploads land in the landing store and announce themselves as events.

``harmonize submit DIR`` and ``POST /submissions`` both end in :func:`submit`; processing
starts from the event with :func:`fetch_submission`.
"""

from __future__ import annotations

from harmonize.intake.landing import (
    LandingStore,
    LandingUnavailable,
    LocalLanding,
    S3Landing,
    open_landing,
)
from harmonize.intake.submit import fetch_submission, submit

__all__ = [
    "LandingStore",
    "LandingUnavailable",
    "LocalLanding",
    "S3Landing",
    "fetch_submission",
    "open_landing",
    "submit",
]
