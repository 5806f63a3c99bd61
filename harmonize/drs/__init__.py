"""DRS stage: the registry of published and input files, and the GA4GH DRS 1.5.0 service.

The registry side (ids, specs, :class:`~harmonize.drs.registry.Registry`) is importable
without FastAPI; the service is :func:`harmonize.drs.app.create_app`.
"""

from __future__ import annotations

from harmonize.drs.ids import bundle_id, drs_id
from harmonize.drs.registration import bundle_checksum
from harmonize.drs.registry import Registry
from harmonize.drs.specs import BundleSpec, ObjectSpec

__all__ = ["BundleSpec", "ObjectSpec", "Registry", "bundle_checksum", "bundle_id", "drs_id"]
