"""The dashboard's shared state: settings, stores and templates, built once at mount."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import jinja2
from sqlalchemy.engine import Engine

from harmonize.dashboard.audit import AuditLog
from harmonize.dashboard.config import DashboardSettings
from harmonize.dashboard.readmodel import ReadModel
from harmonize.dashboard.summaries import Refresher
from harmonize.dashboard.versions import DiffCache
from harmonize.drs.registry import Registry
from harmonize.settings import Settings
from harmonize.state.review import ReviewStore

PREFIX = "/dashboard"


@functools.lru_cache(maxsize=1)
def templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("harmonize.dashboard", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["prefix"] = PREFIX
    env.filters["when"] = _when
    return env


def _when(value: Any) -> str:
    """A timestamp as ``YYYY-MM-DD HH:MM`` UTC (SQLite hands back naive UTC datetimes)."""
    if value is None:
        return "-"
    if hasattr(value, "strftime"):
        return str(value.strftime("%Y-%m-%d %H:%M"))
    return str(value)[:16]


@dataclass
class Dashboard:
    settings: DashboardSettings
    pipeline: Settings
    engine: Engine
    read: ReadModel
    audit: AuditLog
    review: ReviewStore
    refresh: Refresher
    registry: Registry  # the pipeline's: DRS objects, the publication ledger, withdrawals
    diffs: DiffCache = field(default_factory=DiffCache)
