"""Harmonize: clinical submissions to GA4GH Phenopackets v2, Parquet tables and DRS objects.

The public API is imported lazily so that ``harmonize --help`` stays fast.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = [
    "Finding",
    "HarmonizeError",
    "IngestResult",
    "QualityReport",
    "Settings",
    "ingest",
]

_LAZY = {
    "Finding": "harmonize.quality.findings",
    "QualityReport": "harmonize.quality.findings",
    "HarmonizeError": "harmonize.errors",
    "Settings": "harmonize.settings",
    "IngestResult": "harmonize.pipeline",
    "ingest": "harmonize.pipeline",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)
