"""Bodies of the DAG tasks: environment in, settings built, one stage called, paths out.

The DAG files are edges (they may read the environment) and stay thin: each task
imports one function from here and passes ``os.environ``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harmonize.orchestrate.config import settings_from_env

DAG_SOURCE = "urn:harmonize:airflow:harmonize_ingest"


def _bus(env: Mapping[str, str]) -> Any:
    from harmonize.events import open_bus

    return open_bus(settings_from_env(env).events)


def receive_events(payloads: list[Any], env: Mapping[str, str]) -> list[dict[str, Any]]:
    """Receive every triggering event; malformed ones are dead-lettered and dropped."""
    from harmonize.orchestrate.stages import receive_event
    from harmonize.orchestrate.trigger import payload_bytes

    settings = settings_from_env(env)
    bus = _bus(env)
    received = []
    try:
        for payload in payloads:
            if not payload:
                continue
            origin = {k: payload.get(k) for k in ("topic", "partition", "offset", "key")}
            got = receive_event(payload_bytes(payload), settings, bus, origin=origin)
            if got is not None:
                received.append(got.to_dict())
    finally:
        bus.close()
    return received


def ingest_one(received: dict[str, Any], env: Mapping[str, str]) -> str:
    """Run the pipeline on one received submission; the result file's path."""
    from harmonize.orchestrate.faults import crash_hook
    from harmonize.orchestrate.stages import Received, ingest_received

    settings = settings_from_env(env)
    got = Received.from_dict(received)
    faults = Path(env["HARMONIZE_FAULTS_DIR"]) if env.get("HARMONIZE_FAULTS_DIR") else None
    hook = crash_hook(faults, got.submission_id)
    return str(ingest_received(got, settings, before_commit=hook))


def announce_one(result_file: str, env: Mapping[str, str]) -> dict[str, Any]:
    """Emit the result event; the result as a dict (small) for the task's XCom."""
    from harmonize.orchestrate.stages import announce

    bus = _bus(env)
    try:
        result = announce(Path(result_file), bus, source=DAG_SOURCE)
    finally:
        bus.close()
    return dict(result.model_dump(mode="json"))


def scan_landing_zone(env: Mapping[str, str]) -> list[dict[str, Any]]:
    """The landing scan over the configured landing directory."""
    from dataclasses import asdict

    from harmonize.orchestrate.scan import scan_landing

    settings = settings_from_env(env)
    landing = settings.landing
    if landing.startswith("s3://"):
        from harmonize.errors import ConfigurationError

        raise ConfigurationError("the landing scan reads a local landing directory", value=landing)
    root = Path(landing.removeprefix("file://"))
    bus = _bus(env)
    try:
        found = scan_landing(
            settings,
            bus,
            landing_root=root,
            min_age_s=float(env.get("HARMONIZE_SCAN_MIN_AGE", "60")),
            stale_after_s=float(env.get("HARMONIZE_SCAN_STALE", "300")),
        )
    finally:
        bus.close()
    return [asdict(f) for f in found]


def refresh_ontologies_env(env: Mapping[str, str]) -> list[dict[str, Any]]:
    from harmonize.orchestrate.refresh import refresh_ontologies

    settings = settings_from_env(env)
    incoming = env.get("HARMONIZE_ONTOLOGY_INCOMING") or str(
        settings.workspace / "ontologies-incoming"
    )
    return refresh_ontologies(settings, incoming=Path(incoming))
