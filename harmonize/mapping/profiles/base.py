"""The profile plug-in contract: a profile maps raw rows to the harmonized tables.

A profile never writes anything and never raises for bad *values*: those become
findings pointing at the submitter's file, row and column. It raises
:class:`~harmonize.errors.MappingError` only when the input cannot be mapped at all
(a required column is missing, the layout is not the profile's).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from harmonize.mapping import tables
from harmonize.mapping.resolver import Resolver
from harmonize.ontology import Ontologies
from harmonize.quality.collect import FindingCollector
from harmonize.readers.base import ReadOptions, SourceBatch
from harmonize.settings import Settings


@dataclass
class MappingContext:
    """What a profile may use: the ontologies, settings, and its own configuration."""

    submission_id: str
    ontologies: Ontologies
    settings: Settings
    findings: FindingCollector
    config: dict[str, Any] = field(default_factory=dict)
    config_path: Path | None = None
    mappings: list[dict[str, Any]] = field(default_factory=list)  # term-mapping evidence
    resolver: Resolver | None = None  # text -> term, with mapping memory and review
    # the submission's data files, by the name the manifest gives them: for layouts spread
    # over several files (an OMOP CDM export's tables, a REDCap dictionary and its records)
    files: dict[str, Path] = field(default_factory=dict)


@dataclass
class MappedBatch:
    """The harmonized tables for one batch of complete individuals.

    ``documents`` is set when the input already is Phenopacket JSON: those documents are
    republished as they are (the tables are their flattened form); ``sources`` gives each
    document's (file, row) in the submission. ``for_documents`` holds the tables the
    Phenopacket documents are built from where they differ from ``tables`` (redundant
    statements kept in a table are left out of the documents). ``extras`` holds, by
    phenopacket id, Phenopacket fields the tables do not build (``medicalActions`` from a FHIR
    Procedure or a Beacon intervention), already checked by the profile: they are added to
    the documents built from the tables, and MetaData lists the CURIE prefixes of their
    ontology classes. ``prefixes`` names, by phenopacket id, further CURIE prefixes a
    document's content came from that neither a table column nor an extra shows (a Beacon
    sex given as an NCIT code): MetaData lists them too. :meth:`of` turns the extras'
    ``medicalActions`` into rows of the ``procedures`` and ``treatments`` tables
    (:mod:`harmonize.mapping.actions`).
    """

    tables: dict[str, pa.Table]
    documents: list[dict[str, Any]] | None = None
    sources: list[tuple[str, int | None]] | None = None
    for_documents: dict[str, pa.Table] | None = None
    extras: dict[str, dict[str, Any]] | None = None
    prefixes: dict[str, set[str]] | None = None

    @classmethod
    def of(
        cls,
        documents: list[dict[str, Any]] | None = None,
        sources: list[tuple[str, int | None]] | None = None,
        extras: dict[str, dict[str, Any]] | None = None,
        prefixes: dict[str, set[str]] | None = None,
        **named: pa.Table,
    ) -> MappedBatch:
        if extras:  # medicalActions as rows of the procedures and treatments tables
            from harmonize.mapping.actions import action_tables

            named = {**action_tables(extras, named.get("individuals")), **named}
        out = {
            name: tables.conform(name, named[name]) if name in named else tables.empty(name)
            for name in tables.TABLES
        }
        return cls(out, documents, sources, extras=extras or None, prefixes=prefixes or None)


def flag_unmapped(
    ctx: MappingContext,
    batch: SourceBatch,
    raw: pa.Array,
    mapped: pa.Array,
    column: str,
    category: str,
    hint: str,
    validator: str,
) -> None:
    """An error for every cell that held a value the profile could not map."""
    bad = pc.and_(pc.is_valid(raw), pc.is_null(mapped))
    for i in np.flatnonzero(bad.to_numpy(zero_copy_only=False)):
        value = raw[int(i)].as_py()
        ctx.findings.add(
            "error",
            category,
            f"{column} value {value!r} is not understood",
            validator,
            hint=hint,
            file=batch.file,
            sheet=batch.sheet,
            row=batch.rows[int(i)].as_py(),
            column=column,
            value=str(value),
        )


class Profile(ABC):
    """Maps batches from one input layout to the harmonized tables."""

    name: ClassVar[str]
    description: ClassVar[str]
    raw_suite: ClassVar[str | None] = None  # expectations/raw/<name>.json, checked before mapping
    # the reader for its files (a registered reader's name), unless the manifest names one;
    # None: the reader a file's name and first bytes pick
    reader: ClassVar[str | None] = None

    def configure(self, ctx: MappingContext) -> None:  # noqa: B027  (optional hook)
        """Load configuration (e.g. a mapping YAML) once per submission."""

    def read_options(self, ctx: MappingContext) -> ReadOptions:
        return ReadOptions(batch_size=ctx.settings.batch_size)

    def clean(self, batch: SourceBatch, ctx: MappingContext) -> SourceBatch:
        """The raw batch as the raw checks and the mapping see it (runs before both);
        e.g. spreadsheet error values reported and emptied. Unchanged by default."""
        return batch

    def raw_expectations(self, ctx: MappingContext) -> list[dict[str, Any]]:
        """Expectations built at run time, added to the raw suite (e.g. from a mapping YAML)."""
        return []

    def harmonized_expectations(self, ctx: MappingContext, table: str) -> list[dict[str, Any]]:
        """Expectations built at run time for a harmonized table's suite (plausible ranges)."""
        return []

    def source_columns(self, ctx: MappingContext, table: str) -> dict[str, str]:
        """The submitter's name of a harmonized table's columns (``sex`` -> ``gender``).

        Findings on the harmonized tables name these, not the table's own columns; a row's
        ``source_column`` wins where the table has one.
        """
        return {}

    @abstractmethod
    def map_batch(self, batch: SourceBatch, ctx: MappingContext) -> MappedBatch:
        """Map one batch of raw rows; record findings in ``ctx.findings``."""


_PROFILES: dict[str, type[Profile]] = {}


def register(cls: type[Profile]) -> type[Profile]:
    _PROFILES[cls.name] = cls
    return cls


def profiles() -> dict[str, type[Profile]]:
    from harmonize.mapping.profiles.builtin import import_all

    import_all()  # registers the built-in profiles
    return dict(_PROFILES)


def get_profile(name: str) -> Profile:
    """The profile ``name``: a built-in one imports its own module only."""
    import importlib

    from harmonize.errors import ConfigurationError
    from harmonize.mapping.profiles.builtin import MODULES

    if name not in _PROFILES and name in MODULES:
        importlib.import_module(MODULES[name])
    found = _PROFILES if name in _PROFILES else profiles()
    if name not in found:
        raise ConfigurationError(
            f"unknown profile {name!r}", hint=f"choose one of: {', '.join(sorted(found))}"
        )
    return found[name]()
