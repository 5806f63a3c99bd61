"""The one web service: the DRS API plus the features served beside it.

``harmonize serve`` runs :func:`app_from_env` under uvicorn. Each feature (the submission
intake API, the curator dashboard) is a module with ``mount(app, settings)``, listed in
:func:`_features`; its own settings travel in :class:`WebSettings`. The Beacon
(:mod:`harmonize.discovery.beacon`) is served by default. The pipeline's settings
(where the warehouse and the landing store are) travel there too: withdrawals, from the
admin API or the dashboard, change the published data.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from pydantic import BaseModel, Field

from harmonize.dashboard.config import DashboardEnvSettings, DashboardSettings
from harmonize.discovery.beacon.config import BeaconSettings
from harmonize.discovery.dataconnect.config import DataConnectEnvSettings, DataConnectSettings
from harmonize.drs.app import create_app as create_drs_app
from harmonize.drs.config import DrsEnvSettings, DrsSettings
from harmonize.intake.config import IntakeEnvSettings, IntakeSettings
from harmonize.settings import Settings


class WebSettings(BaseModel):
    """Everything the service needs; the DRS part is always there."""

    drs: DrsSettings
    # the warehouse, landing store and registry withdrawals act on; None: the DRS workspace
    # and registry (the dashboard's own ``pipeline``, when set, wins for the dashboard)
    pipeline: Settings | None = None
    dashboard: DashboardSettings | None = None  # None: no dashboard is served
    intake: IntakeSettings | None = None  # None: no submissions API (POST /submissions)
    data_connect: DataConnectSettings | None = None  # None: Data Connect's defaults
    # the Beacon v2 at /ga4gh/beacon/v2 (served by default); None: no Beacon
    beacon: BeaconSettings | None = Field(default_factory=BeaconSettings)


Feature = Callable[[FastAPI, WebSettings], None]


def _features() -> list[Feature]:
    """The features mounted next to DRS, in order (each module's ``mount``)."""
    from harmonize import dashboard
    from harmonize.discovery import beacon, dataconnect
    from harmonize.intake import api as intake

    return [dashboard.mount, intake.mount, beacon.mount, dataconnect.mount]


def create_app(settings: WebSettings) -> FastAPI:
    """The DRS app with every feature mounted on it."""
    app = create_drs_app(settings.drs, pipeline=settings.pipeline)
    app.state.web_settings = settings
    for mount in _features():
        mount(app, settings)
    return app


# HARMONIZE_DRS_* variables that are not the service's: the DRS client's (harmonize drs)
CLIENT_VARIABLES = ("HARMONIZE_DRS_TOKEN",)


def app_from_env() -> FastAPI:
    """The edge: settings from ``HARMONIZE_*`` variables (a uvicorn ``--factory``).

    The pipeline's settings come from the variables the worker reads (``HARMONIZE_WAREHOUSE``,
    ``HARMONIZE_S3_ENDPOINT_URL``, ``HARMONIZE_LANDING_URL``, ...), on the DRS service's
    workspace and registry, with the intake's landing store when one is configured (and the
    intake's S3 endpoint for it when ``HARMONIZE_S3_ENDPOINT_URL`` is not set).

    The Beacon's settings come from the file ``HARMONIZE_BEACON_FILE`` names (defaults
    without one); ``HARMONIZE_BEACON_ENABLED=false`` serves none.

    A mistyped ``HARMONIZE_DRS_*``, ``HARMONIZE_INTAKE_*``, ``HARMONIZE_DASHBOARD_*`` or
    ``HARMONIZE_DATACONNECT_*`` variable stops the service, naming the nearest valid one.
    """
    import os

    from harmonize.discovery.beacon.config import settings_from_env as beacon_from_env
    from harmonize.orchestrate.config import settings_from_env
    from harmonize.strict import refuse_unknown_env

    refuse_unknown_env(os.environ, "HARMONIZE_DRS_", DrsEnvSettings, allowed=CLIENT_VARIABLES)
    refuse_unknown_env(os.environ, "HARMONIZE_INTAKE_", IntakeEnvSettings)
    refuse_unknown_env(os.environ, "HARMONIZE_DASHBOARD_", DashboardEnvSettings)
    refuse_unknown_env(os.environ, "HARMONIZE_DATACONNECT_", DataConnectEnvSettings)
    drs = DrsEnvSettings().to_settings()
    intake = IntakeEnvSettings().to_settings()
    landing = intake.landing_url if intake is not None else None  # where uploads land
    endpoint = None
    if intake is not None and landing and not os.environ.get("HARMONIZE_S3_ENDPOINT_URL"):
        endpoint = intake.s3_endpoint_url
    pipeline = settings_from_env(
        os.environ,
        workspace=drs.workspace,
        registry_url=drs.registry_url,
        landing_url=landing,
        s3_endpoint_url=endpoint,
    )
    drs = _published_bucket(drs, pipeline)
    return create_app(
        WebSettings(
            drs=drs,
            pipeline=pipeline,
            dashboard=DashboardEnvSettings().to_settings(),
            intake=intake,
            data_connect=DataConnectEnvSettings().to_settings(),
            beacon=beacon_from_env(os.environ),
        )
    )


def _published_bucket(drs: DrsSettings, pipeline: Settings) -> DrsSettings:
    """DRS serves a warehouse in a bucket from that bucket (presigned URLs), unless its own
    ``HARMONIZE_DRS_S3_BUCKET`` says otherwise: both lay files out as the workspace does."""
    from harmonize.drs.stores import S3Settings

    warehouse = pipeline.warehouse_url
    if drs.s3 is not None or not warehouse or not warehouse.startswith("s3://"):
        return drs
    bucket, _, prefix = warehouse.removeprefix("s3://").partition("/")
    s3 = S3Settings(bucket=bucket, prefix=prefix, endpoint_url=pipeline.s3_endpoint_url)
    return drs.model_copy(update={"s3": s3})
