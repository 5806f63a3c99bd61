"""Settings for the edges that drive the pipeline from events (the worker CLI, the DAGs).

The library never reads the environment; an edge passes ``os.environ`` in here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harmonize.settings import Settings

# environment variable -> Settings field
ENV = {
    "HARMONIZE_WORKSPACE": "workspace",
    "HARMONIZE_EVENTS_URL": "events_url",
    "HARMONIZE_LANDING_URL": "landing_url",
    "HARMONIZE_REGISTRY_URL": "registry_url",
    "HARMONIZE_ONTOLOGY_CACHE": "ontology_cache",
    "HARMONIZE_ONTOLOGIES_DIR": "ontologies_dir",
    "HARMONIZE_ON_CONFLICT": "on_conflict",
    "HARMONIZE_S3_ENDPOINT_URL": "s3_endpoint_url",
}


def settings_from_env(env: Mapping[str, str], **overrides: Any) -> Settings:
    """Build :class:`Settings` from ``HARMONIZE_*`` variables; ``overrides`` win.

    >>> settings_from_env({"HARMONIZE_WORKSPACE": "/tmp/ws"}).workspace
    PosixPath('/tmp/ws')
    """
    values: dict[str, Any] = {}
    for var, field in ENV.items():
        if env.get(var) and field in Settings.model_fields:
            values[field] = Path(env[var]) if field in _PATHS else env[var]
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values)


_PATHS = {"workspace", "ontology_cache", "ontologies_dir"}
