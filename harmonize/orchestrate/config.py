"""Settings for the edges that drive the pipeline from events (the worker CLI, the DAGs).

The library never reads the environment; an edge passes ``os.environ`` in here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from harmonize.settings import Settings, limits_from_env

# environment variable -> Settings field
ENV = {
    "HARMONIZE_WORKSPACE": "workspace",
    "HARMONIZE_EVENTS_URL": "events_url",
    "HARMONIZE_LANDING_URL": "landing_url",
    "HARMONIZE_REGISTRY_URL": "registry_url",
    "HARMONIZE_WAREHOUSE": "warehouse_url",
    "HARMONIZE_ONTOLOGY_CACHE": "ontology_cache",
    "HARMONIZE_ONTOLOGIES_DIR": "ontologies_dir",
    "HARMONIZE_ON_CONFLICT": "on_conflict",
    "HARMONIZE_UNMAPPED_POLICY": "unmapped_policy",
    "HARMONIZE_LOW_CONFIDENCE": "low_confidence",
    "HARMONIZE_OBSOLETE": "obsolete",
    "HARMONIZE_S3_ENDPOINT_URL": "s3_endpoint_url",
    "HARMONIZE_BATCH_SIZE": "batch_size",  # rows per batch: what the ingest DAG fans out
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
    values.setdefault("limits", limits_from_env(env))
    try:
        return Settings(**values)
    except ValidationError as exc:
        from harmonize.errors import ConfigurationError

        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        name = {f: var for var, f in ENV.items()}.get(field, field)
        raise ConfigurationError(
            f"{name}={first.get('input')!r}: {first['msg']}",
            value=first.get("input"),
            hint=f"set {name} to an allowed value, or unset it for the default",
        ) from exc


_PATHS = {"workspace", "ontology_cache", "ontologies_dir"}
