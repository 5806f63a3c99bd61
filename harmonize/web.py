"""The one web service: the DRS API plus the features served beside it.

``harmonize serve`` runs :func:`app_from_env` under uvicorn. Each feature (the submission
intake API, the curator dashboard) is a module with ``mount(app, settings)``, listed in
:func:`_features`; its own settings travel in :class:`WebSettings`.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from pydantic import BaseModel

from harmonize.dashboard.config import DashboardEnvSettings, DashboardSettings
from harmonize.drs.app import create_app as create_drs_app
from harmonize.drs.config import DrsEnvSettings, DrsSettings
from harmonize.intake.config import IntakeEnvSettings, IntakeSettings


class WebSettings(BaseModel):
    """Everything the service needs; the DRS part is always there."""

    drs: DrsSettings
    dashboard: DashboardSettings | None = None  # None: no dashboard is served
    intake: IntakeSettings | None = None  # None: no submissions API (POST /submissions)


Feature = Callable[[FastAPI, WebSettings], None]


def _features() -> list[Feature]:
    """The features mounted next to DRS, in order (each module's ``mount``)."""
    from harmonize import dashboard
    from harmonize.intake import api as intake

    return [dashboard.mount, intake.mount]


def create_app(settings: WebSettings) -> FastAPI:
    """The DRS app with every feature mounted on it."""
    app = create_drs_app(settings.drs)
    app.state.web_settings = settings
    for mount in _features():
        mount(app, settings)
    return app


def app_from_env() -> FastAPI:
    """The edge: settings from ``HARMONIZE_*`` variables (a uvicorn ``--factory``)."""
    return create_app(
        WebSettings(
            drs=DrsEnvSettings().to_settings(),
            dashboard=DashboardEnvSettings().to_settings(),
            intake=IntakeEnvSettings().to_settings(),
        )
    )
