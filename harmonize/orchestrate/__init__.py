"""Drive the pipeline from submission events: the stages the worker and the DAGs share.

receive (parse the event, dead-letter it if malformed, fetch the landed files)
-> ingest (read, check, harmonize, check, publish: :func:`harmonize.pipeline.ingest`)
-> announce (the result event on ``harmonize.results``).

Stages pass paths (a per-run directory under ``WORKSPACE/runs``), never data. This
package stays light at import: the DAG files and the Kafka trigger import from it.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "Received",
    "announce",
    "ingest_received",
    "process_event",
    "receive_event",
    "run_worker",
    "scan_landing",
    "settings_from_env",
]

_LAZY = {
    "Received": "harmonize.orchestrate.stages",
    "announce": "harmonize.orchestrate.stages",
    "ingest_received": "harmonize.orchestrate.stages",
    "receive_event": "harmonize.orchestrate.stages",
    "process_event": "harmonize.orchestrate.process",
    "run_worker": "harmonize.orchestrate.worker",
    "scan_landing": "harmonize.orchestrate.scan",
    "settings_from_env": "harmonize.orchestrate.config",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)
