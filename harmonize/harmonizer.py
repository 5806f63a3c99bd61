"""The read -> check-raw -> harmonize -> check stages of one submission, batch by batch.

:class:`Harmonizer` is what :func:`harmonize.pipeline.ingest` runs in one process and
what the ingest DAG's ``harmonize`` tasks run per batch (:mod:`harmonize.orchestrate.fanout`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from harmonize.quality.collect import FindingCollector
from harmonize.quality.findings import QualityReport
from harmonize.settings import Settings
from harmonize.submission.receive import Submission

if TYPE_CHECKING:
    from harmonize.mapping.profiles.base import MappedBatch
    from harmonize.readers.base import SourceBatch


@dataclass
class Run:
    """What harmonizing a submission gave: the report so far and rows per table."""

    report: QualityReport
    counts: dict[str, int]


class Harmonizer:
    """The read -> check-raw -> harmonize -> check stages for one submission, batch by batch.

    Built once per submission (ontologies, profile, term resolver, checker); :meth:`batch`
    takes one raw batch to its checked tables and Phenopacket documents. Findings go to
    ``findings``; the validators that ran, data docs and mapping evidence to ``report``.
    """

    def __init__(
        self,
        submission: Submission,
        settings: Settings,
        findings: FindingCollector,
        *,
        created: str | None = None,
    ) -> None:
        from harmonize.consent import DataUse
        from harmonize.mapping.profiles import MappingContext, get_profile
        from harmonize.mapping.resolver import Resolver
        from harmonize.ontology import Ontologies
        from harmonize.quality import checks
        from harmonize.state.review import ReviewStore

        ontologies = Ontologies.load(settings.ontologies_dir, settings.cache_dir)
        self.settings = settings
        self.submission = submission
        self.data_use = DataUse.of(ontologies)
        _check_consent(submission, self.data_use)
        self.profile = get_profile(submission.manifest.profile)
        self.ctx = MappingContext(
            submission.id,
            ontologies,
            settings,
            findings,
            config_path=submission.mapping_path,
            files={f.name: f.path for f in submission.files},
        )
        self.ctx.resolver = Resolver(
            ontologies=ontologies,
            settings=settings,
            findings=findings,
            mappings=self.ctx.mappings,
            dataset=submission.manifest.dataset,
            submission_id=submission.id,
            store=ReviewStore(settings.registry),
        )
        self.profile.configure(self.ctx)
        self.report = QualityReport(submission_id=submission.id)
        self.checker = checks.Checker(
            settings,
            ontologies,
            findings,
            self.report,
            self.profile,
            self.ctx,
            dataset=submission.manifest.dataset,
            withdrawn=_withdrawn(settings, submission.manifest.dataset),
        )
        self.created = created or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def read(self, file: Any) -> Iterator[SourceBatch]:
        """The raw batches of one of the submission's files."""
        from harmonize.readers import reader_for

        reader = reader_for(file.path, prefer=file.format or self.profile.reader)
        options = replace(
            self.profile.read_options(self.ctx),
            label=file.name,
            sheet=file.sheet,
            limits=self.settings.limits,
        )
        batches = reader.read(file.path, options)
        if options.group_by is not None:  # an individual's rows in one batch
            from harmonize.readers.grouping import keep_together

            batches = keep_together(batches, options.group_by)
        yield from batches

    def batch(self, batch: SourceBatch) -> tuple[MappedBatch, list[dict[str, Any]]]:
        """Check, map and check one raw batch: its tables and its Phenopacket documents."""
        mapped = self.check(batch)
        return mapped, [doc for part in self.documents(mapped) for doc in part]

    def check(self, batch: SourceBatch) -> MappedBatch:
        """Check, map and check one raw batch: its checked tables."""
        batch = self.profile.clean(batch, self.ctx)
        self.checker.raw(batch)
        return self.checker.harmonized(self.profile.map_batch(batch, self.ctx))

    def documents(self, mapped: MappedBatch) -> Iterator[list[dict[str, Any]]]:
        """A checked batch's Phenopacket documents, a slice of individuals at a time (see
        :func:`~harmonize.mapping.phenopackets.document_slices`), so a caller that writes
        each slice before taking the next never holds the whole batch's dicts."""
        from harmonize.mapping.phenopackets import SLICE, document_slices

        if mapped.documents is not None:
            for start in range(0, len(mapped.documents), SLICE):
                yield mapped.documents[start : start + SLICE]
            return
        yield from document_slices(
            mapped.for_documents or mapped.tables,
            created=self.created,
            created_by=self.settings.created_by,
            resource=self.checker.resource,
            consent=self.submission.manifest.consent,
            references=self.data_use.references,
            extras=mapped.extras,
            prefixes=mapped.prefixes,
        )

    def result(self, counts: dict[str, int]) -> Run:
        self.report.mappings = self.ctx.mappings
        return Run(self.report, counts)


def _check_consent(submission: Submission, data_use: Any) -> None:
    """The manifest's consent codes are DUO permissions or modifiers, or nothing is published."""
    from harmonize.errors import SubmissionError
    from harmonize.submission.manifest import MANIFEST_NAME

    bad = [(c, p) for c in submission.manifest.consent if (p := data_use.problem(c)) is not None]
    if bad:
        raise SubmissionError(
            "consent: " + "; ".join(f"{code} {problem}" for code, problem in bad),
            submission_id=submission.id,
            file=MANIFEST_NAME,
            column="consent",
            value=", ".join(code for code, _ in bad),
            hint=f"use DUO codes ({data_use.describe()}), e.g. DUO:0000042 general research use",
        )


def _withdrawn(settings: Settings, dataset: str) -> frozenset[str]:
    """The subject hashes withdrawn from ``dataset``: a later ingest never brings them back."""
    from harmonize.drs.registry import Registry
    from harmonize.lifecycle.withdraw import withdrawn_subjects

    registry = Registry(settings.registry)
    try:
        registry.create_all()
        return frozenset(withdrawn_subjects(registry, dataset))
    finally:
        registry.dispose()
