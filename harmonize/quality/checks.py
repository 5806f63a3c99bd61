"""The check stages of one batch: raw expectations before mapping, then every harmonized check.

``check-raw``: the profile's Great Expectations suite on the raw table.
``check``: term ids against the pinned releases, required fields, unique ids, ISO ages,
ancestry conflicts and redundancy, MetaData of submitted Phenopackets, and the Great
Expectations suites of the harmonized tables.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from harmonize.mapping.profiles.base import MappedBatch, MappingContext, Profile
from harmonize.mapping.terms import harmonize_terms
from harmonize.ontology import Ontologies
from harmonize.quality import semantic, validators
from harmonize.quality.collect import FindingCollector
from harmonize.quality.findings import Location, QualityReport
from harmonize.quality.seen import SeenIds
from harmonize.readers.base import SourceBatch
from harmonize.settings import Settings

# a well-formed id of each id column's kind, which findings cite (not an HPO id for a disease)
EXAMPLES = {
    ("diseases", "term_id"): "OMIM:154700",
    ("variants", "gene_id"): "HGNC:3603",
    ("variants", "allelic_state_id"): "GENO:0000135",
    ("measurements", "assay_id"): "LOINC:718-7",
    ("measurements", "unit_id"): "UCUM:g/dL",
}
# (table, id column, label column)
TERM_COLUMNS = (
    ("individuals", "last_encounter_term_id", "last_encounter_term_label"),
    ("phenotypic_features", "term_id", "term_label"),
    ("phenotypic_features", "onset_term_id", "onset_term_label"),
    ("phenotypic_features", "resolution_term_id", "resolution_term_label"),
    ("diseases", "term_id", "term_label"),
    ("diseases", "onset_term_id", "onset_term_label"),
    ("diseases", "resolution_term_id", "resolution_term_label"),
    ("measurements", "time_observed_term_id", "time_observed_term_label"),
    ("variants", "gene_id", None),
    ("variants", "allelic_state_id", "allelic_state_label"),
    ("measurements", "assay_id", "assay_label"),
    ("measurements", "unit_id", "unit_label"),
)


class Checker:
    def __init__(
        self,
        settings: Settings,
        ontologies: Ontologies,
        findings: FindingCollector,
        report: QualityReport,
        profile: Profile,
        ctx: MappingContext,
        *,
        mode: semantic.Mode = "republish",
        dataset: str = "",
        withdrawn: frozenset[str] = frozenset(),
    ) -> None:
        """``mode`` is how submitted Phenopackets are judged: ``republish`` at ingest (the
        data centre's rules), ``validate`` for ``harmonize validate`` (the reference's)."""
        self.mode = mode
        self.dataset = dataset
        self.withdrawn = withdrawn  # subject hashes withdrawn from the dataset
        self.settings = settings
        self.ontologies = ontologies
        self.findings = findings
        self.report = report
        self.profile = profile
        self.ctx = ctx
        self.seen_ids = SeenIds()
        self._docs_written: set[str] = set()
        self._resources: dict[str, dict[str, Any] | None] = {}

    def resource(self, prefix: str) -> dict[str, Any] | None:
        if prefix not in self._resources:
            try:
                self._resources[prefix] = self.ontologies.resource(prefix)
            except Exception:
                self._resources[prefix] = None
        return self._resources[prefix]

    # -- Great Expectations ---------------------------------------------------------------
    def _suite(
        self,
        suite: str,
        table: pa.Table,
        locate: Any,
        extra: list[dict[str, Any]],
        source_columns: dict[str, str] | None = None,
    ) -> None:
        if not self.settings.run_great_expectations:
            return
        from harmonize.quality.expectations import run_suite

        docs_dir = None
        if self.settings.data_docs and suite not in self._docs_written:
            docs_dir = self.settings.reports_dir / self.report.submission_id / "data-docs"
            self._docs_written.add(suite)
        result = run_suite(
            suite,
            table,
            locate=locate,
            expectations_dir=self.settings.expectations_dir,
            extra=extra,
            data_docs_dir=docs_dir,
            source_columns=source_columns,
        )
        self.report.ran(result.validator)
        self.findings.extend(result.findings)
        for path in result.data_docs:
            if path not in self.report.data_docs:
                self.report.data_docs.append(path)

    def raw(self, batch: SourceBatch) -> None:
        suite = self.profile.raw_suite
        if suite is None:
            return
        rows = batch.rows

        def locate(i: int) -> Location:
            return Location(file=batch.file, sheet=batch.sheet, row=rows[i].as_py())

        self._suite(suite, batch.table, locate, self.profile.raw_expectations(self.ctx))

    # -- harmonized -------------------------------------------------------------------------
    def harmonized(self, mapped: MappedBatch) -> MappedBatch:
        t = dict(mapped.tables)
        republish = mapped.documents is not None  # submitted phenopackets stay as they are
        replace = not republish and self.settings.obsolete == "replace"
        for name, id_col, label_col in TERM_COLUMNS:
            t[name] = harmonize_terms(
                t[name],
                self.ontologies,
                self.findings,
                id_column=id_col,
                label_column=label_col,
                replace=replace,
                keep_labels=republish,
                obsolete_level="warning" if republish and self.mode == "validate" else None,
                example=EXAMPLES.get((name, id_col), "HP:0001250"),
            )
        self.report.ran("ontology-terms")
        if not republish:  # a submitted document is published as it is: the schema decides
            for name, id_col, label_col in TERM_COLUMNS:
                if label_col is not None:
                    t[name] = validators.fill_missing_labels(
                        name, t[name], id_col, label_col, self.findings
                    )
            self.report.ran("term-labels")
        for name, table in t.items():
            validators.check_required(name, table, self.findings)
            validators.check_ages(name, table, self.findings)
        self.report.ran("required-fields")
        # mapped tables take the subject from a required id column; a submitted Phenopacket
        # may lack one, which v2 allows and this data centre's policy does not
        if republish and self.mode != "validate" and self.settings.require_subject:
            validators.check_subject(t["individuals"], self.findings)
            self.report.ran(validators.SUBJECT_POLICY)
        self.report.ran("iso8601-ages")
        for name, table in t.items():  # reported above; a record without an id cannot be kept
            if table.num_rows and table.column("phenopacket_id").null_count:
                t[name] = table.filter(pc.is_valid(table.column("phenopacket_id")))
        documents, sources = mapped.documents, mapped.sources
        if self.withdrawn:
            t, documents, sources = self._without_withdrawn(t, documents, sources)
        keep = validators.check_unique_ids(
            t["individuals"],
            self.seen_ids,
            self.findings,
            level="warning" if self.mode == "validate" else "error",
        )
        self.report.ran("unique-ids")
        if not pc.all(keep).as_py():
            t["individuals"] = t["individuals"].filter(keep)
        pruned = semantic.check_and_prune(
            t["phenotypic_features"],
            self.ontologies,
            self.findings,
            mode=self.mode if republish else "ingest",
            remove_redundant=self.settings.remove_redundant_ancestors,
            on_conflict=self.settings.on_conflict,
        )
        t["phenotypic_features"] = pruned.table
        for_documents = None
        if pruned.documents is not pruned.table:
            for_documents = {**t, "phenotypic_features": pruned.documents}
        self.report.ran(semantic.VALIDATOR)
        if not republish:
            validators.check_variant_diagnoses(t["variants"], self.findings)
            self.report.ran("variant-diagnoses")
        if documents is not None:
            unknown: list[tuple[str | None, int | None]] = [(None, None)] * len(documents)
            located = list(sources) if sources else unknown
            for doc, (file, row) in zip(documents, located, strict=True):
                validators.check_document(doc, file, row, self.findings)
            self.report.ran("metadata-resources")
        for name, table in t.items():
            if table.num_rows == 0:
                continue

            def locate(i: int, table: pa.Table = table) -> Location:
                # the submitter's column the row came from, not the table's (term_id)
                column = (
                    table.column("source_column")[i].as_py()
                    if "source_column" in table.column_names
                    else None
                )
                return Location(
                    file=table.column("source_file")[i].as_py(),
                    sheet=table.column("source_sheet")[i].as_py(),
                    row=table.column("source_row")[i].as_py(),
                    column=column,
                    phenopacket_id=table.column("phenopacket_id")[i].as_py(),
                )

            extra = self.profile.harmonized_expectations(self.ctx, name)
            named = self.profile.source_columns(self.ctx, name)
            self._suite(f"harmonized/{name}", table, locate, extra, named)
        # what the checks did not touch (a profile's extras and prefixes) passes through
        return dataclasses.replace(
            mapped, tables=t, documents=documents, sources=sources, for_documents=for_documents
        )

    def _without_withdrawn(
        self,
        t: dict[str, pa.Table],
        documents: list[dict[str, Any]] | None,
        sources: Any,
    ) -> tuple[dict[str, pa.Table], list[dict[str, Any]] | None, Any]:
        """Leave out every individual withdrawn from the dataset: a finding per row, and
        never their data (the finding names the row, not the subject)."""
        from harmonize.warehouse.ledger import subject_hash

        individuals = t["individuals"]
        gone: set[str] = set()
        for i, (pid, subject) in enumerate(
            zip(
                individuals.column("phenopacket_id").to_pylist(),
                individuals.column("subject_id").to_pylist(),
                strict=True,
            )
        ):
            if subject is None or subject_hash(self.dataset, subject) not in self.withdrawn:
                continue
            gone.add(pid)
            self.findings.add(
                "warning",
                "withdrawn-subject",
                f"the individual of this row was withdrawn from dataset {self.dataset!r}: "
                "left out, as every later submission of them is",
                "withdrawals",
                hint="nothing to do; the data centre holds the withdrawal",
                file=individuals.column("source_file")[i].as_py(),
                sheet=individuals.column("source_sheet")[i].as_py(),
                row=individuals.column("source_row")[i].as_py(),
            )
        self.report.ran("withdrawals")
        if not gone:
            return t, documents, sources
        dropped = pa.array(sorted(gone), pa.string())
        for name, table in t.items():
            if table.num_rows:
                t[name] = table.filter(pc.invert(pc.is_in(table.column("phenopacket_id"), dropped)))
        if documents is not None:
            kept = [i for i, d in enumerate(documents) if d.get("id") not in gone]
            documents = [documents[i] for i in kept]
            sources = [sources[i] for i in kept] if sources else sources
        return t, documents, sources
