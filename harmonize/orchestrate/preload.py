"""Start a process that later forks task processes warm: imports first, then first-use work.

Airflow's LocalExecutor forks its workers from the scheduler, and each worker forks a
process per task. Importing Great Expectations alone takes 6-15 s on a 2-core machine, so a
task that imports it afresh spends most of a small submission's time there. Imported once in
the scheduler, every forked task process starts with it (copy-on-write).

Imports are not all a first ingest pays for: it also loads the compiled ontology indexes,
builds the Great Expectations context, reads Alembic's migration scripts and imports the
modules the pipeline imports lazily (Alembic, the readers' openpyxl, ...). :func:`warm` does
that work in the parent too, so it is done once instead of once per task. It opens no
database connection, socket or thread (the process forks afterwards) and never raises.

``infra/airflow/airflow_local_settings.py`` calls :func:`preload` and :func:`warm` in the
scheduler only.
"""

from __future__ import annotations

import functools
import importlib
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harmonize.settings import Settings

log = logging.getLogger(__name__)

HEAVY_MODULES = (
    "great_expectations",
    "pyarrow.dataset",
    "pyarrow.parquet",
    "pandas",
    "deltalake",
    "harmonize.pipeline",
    "harmonize.quality.expectations",
    "harmonize.orchestrate.stages",
)

# what harmonize.pipeline imports inside its functions, and so on down: a first ingest
# imports these (and Alembic, openpyxl, Jinja2 through them) unless the parent did
PIPELINE_MODULES = (
    "harmonize.db",
    "harmonize.drs.ids",
    "harmonize.drs.registry",
    "harmonize.state.store",
    "harmonize.state.review",
    "harmonize.publish.commit",
    "harmonize.publish.stage",
    "harmonize.publish.versions",
    "harmonize.harmonizer",
    "harmonize.lifecycle.withdraw",
    "harmonize.warehouse.delta",
    "harmonize.warehouse.migrate",
    "harmonize.submission.manifest",
    "harmonize.ontology",
    "harmonize.mapping.phenopackets",
    "harmonize.mapping.profiles",
    "harmonize.mapping.resolver",
    "harmonize.quality.checks",
    "harmonize.quality.html",
    "harmonize.readers",
    "harmonize.events",  # the DAG tasks' edges: event envelopes, the landing store
    "harmonize.intake",
    "harmonize.orchestrate.tasks",
    "harmonize.orchestrate.fanout",
    "harmonize.orchestrate.trigger",
)


def preload(modules: tuple[str, ...] = HEAVY_MODULES) -> float:
    """Import ``modules``; returns the seconds it took."""
    from harmonize.quality.gx_import import import_gx

    start = time.perf_counter()
    for name in modules:
        if name == "great_expectations":
            import_gx()  # as the pipeline imports it: what no suite uses stays unloaded
        else:
            importlib.import_module(name)
    return time.perf_counter() - start


def warm(settings: Settings) -> float:
    """Do a first ingest's one-time work for ``settings``; returns the seconds it took.

    Imports :data:`PIPELINE_MODULES` and the built-in readers and profiles, reads the
    head revision of the migrations, loads every ontology index already compiled in
    ``settings.cache_dir`` (an index not compiled yet is left for the pipeline), builds
    the Great Expectations context and compiles the report templates. The workspace
    and its database are not touched. Best effort: a step that fails is logged and
    skipped; nothing is raised.
    """
    start = time.perf_counter()
    for name, step in (
        ("imports", _import_pipeline),
        ("head revision", _head_revision),
        ("ontologies", functools.partial(_load_ontologies, settings)),
        ("great expectations", _great_expectations),
        ("report templates", _report_templates),
    ):
        _best_effort(name, step)
    return time.perf_counter() - start


def _best_effort(name: str, step: Callable[[], object]) -> None:
    began = time.perf_counter()
    try:
        step()
    except Exception:
        log.warning("harmonize warm-up: %s failed; skipped", name, exc_info=True)
    else:
        log.debug("harmonize warm-up: %s in %.2f s", name, time.perf_counter() - began)


def _import_pipeline() -> None:
    for name in PIPELINE_MODULES:
        _best_effort(f"import {name}", functools.partial(importlib.import_module, name))
    from harmonize.mapping.profiles import profiles
    from harmonize.readers.base import readers

    readers()  # imports the built-in readers (openpyxl among them)
    profiles()


def _head_revision() -> None:
    from harmonize.db import head_revision

    head_revision()  # memoized: Alembic's script directory is read once


def _load_ontologies(settings: Settings) -> None:
    """Load the indexes compiled in the cache the way the pipeline does (process-wide memo)."""
    from harmonize.ontology import Ontologies
    from harmonize.ontology.cache import cache_path
    from harmonize.ontology.manifest import file_sha256

    ontologies = Ontologies.load(settings.ontologies_dir, settings.cache_dir)
    for entry in ontologies.manifest.ontologies:
        path = ontologies.manifest.path(entry.prefix)
        if path is None:
            continue  # a code system: no index
        digest = entry.sha256 or file_sha256(path)
        if cache_path(settings.cache_dir, entry.prefix, digest).is_file():
            ontologies.get(entry.prefix)
        else:
            log.info(
                "harmonize warm-up: %s is not compiled in %s", entry.prefix, settings.cache_dir
            )


def _great_expectations() -> None:
    from harmonize.quality.expectations import batch_definition
    from harmonize.quality.gx_reuse import install

    batch_definition()  # memoized: one context per process
    install()  # GX's repeated work skipped (2-3 ms): forked tasks start with it in place


def _report_templates() -> None:
    from harmonize.quality.html import load_templates

    load_templates()  # Jinja2 keeps the compiled templates
