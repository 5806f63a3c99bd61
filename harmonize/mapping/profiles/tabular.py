"""``tabular``: any CSV, TSV or XLSX with one row per individual, described by a mapping YAML.

The mapping (see :mod:`harmonize.mapping.profiles.mapping_file`) names the id column,
value maps for sex and vital status, a date of birth, age columns and their format, disease
and procedure columns (codes, labels or both: :mod:`.tabular_diseases`,
:mod:`.tabular_actions`), phenotype columns (one column per term, or a delimited list of
ids or labels that are resolved against the ontology with evidence), measurements with
plausible ranges (:mod:`.tabular_expectations`) and variants. Spreadsheet error values are
reported and emptied before anything is read (:mod:`.tabular_cells`); with a date of birth,
dates become ages (:mod:`.tabular_dates`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from harmonize.consent import DataUse
from harmonize.errors import ConfigurationError, MappingError
from harmonize.mapping import tables as schemas
from harmonize.mapping import times
from harmonize.mapping.ages import age_converter, onset_terms
from harmonize.mapping.profiles.base import (
    MappedBatch,
    MappingContext,
    Profile,
    flag_unmapped,
    register,
)
from harmonize.mapping.profiles.mapping_file import (
    AgeColumn,
    DiseaseColumn,
    MappingFile,
    ValueMap,
    load_mapping,
)
from harmonize.mapping.profiles.tabular_actions import procedures
from harmonize.mapping.profiles.tabular_cells import strip_spreadsheet_errors
from harmonize.mapping.profiles.tabular_dates import births, dates_to_ages
from harmonize.mapping.profiles.tabular_diseases import CodedColumn
from harmonize.mapping.profiles.tabular_expectations import (
    harmonized_expectations,
    raw_expectations,
    source_columns,
)
from harmonize.mapping.profiles.tabular_long import merge_individuals, without_repeats
from harmonize.mapping.profiles.tabular_subject import alternate_ids, vital_status
from harmonize.mapping.values import as_array, column_or_nulls, map_distinct
from harmonize.readers.base import ReadOptions, SourceBatch

VALIDATOR = "profile:tabular"
CODES = pa.list_(pa.string())
GENO = {
    "heterozygous": "GENO:0000135",
    "homozygous": "GENO:0000136",
    "hemizygous": "GENO:0000134",
}


@register
class TabularProfile(Profile):
    name = "tabular"
    description = "any CSV/TSV/XLSX described by a mapping YAML"
    raw_suite = "raw/tabular"

    def configure(self, ctx: MappingContext) -> None:
        if ctx.config_path is None:
            raise ConfigurationError(
                "the tabular profile needs a mapping file",
                hint="name it in manifest.yaml as 'mapping: mapping.yaml' or pass --mapping",
            )
        self.mapping: MappingFile = load_mapping(ctx.config_path)
        self._onsets = onset_terms(ctx.ontologies.get("HP"))
        self._data_use = DataUse.of(ctx.ontologies)
        self._unusable: set[str] = set()  # columns reported as holding only errors

    def read_options(self, ctx: MappingContext) -> ReadOptions:
        if self.mapping.layout == "long":  # an individual's rows must share one batch
            return ReadOptions(batch_size=ctx.settings.batch_size, group_by=self.mapping.id_column)
        return super().read_options(ctx)

    def raw_expectations(self, ctx: MappingContext) -> list[dict[str, Any]]:
        return raw_expectations(self.mapping)

    def harmonized_expectations(self, ctx: MappingContext, table: str) -> list[dict[str, Any]]:
        return harmonized_expectations(self.mapping, table)

    def source_columns(self, ctx: MappingContext, table: str) -> dict[str, str]:
        return source_columns(self.mapping, table)

    def map_batch(self, batch: SourceBatch, ctx: MappingContext) -> MappedBatch:
        m = self.mapping
        batch = strip_spreadsheet_errors(batch, ctx.findings, set(m.columns()), self._unusable)
        t = batch.table
        missing = [c for c in m.columns() if c not in t.column_names]
        if missing:
            raise MappingError(
                f"column{'s' if len(missing) > 1 else ''} named in the mapping not found: "
                + ", ".join(missing),
                file=batch.file,
                sheet=batch.sheet,
                row=1,
                column=missing[0],
                hint="rename the column in the file or fix the mapping YAML",
            )
        n = t.num_rows
        subject = column_or_nulls(t, m.id_column)
        safe = pc.replace_substring_regex(subject, r"[^A-Za-z0-9._-]", "_")
        pp_id = (
            pc.binary_join_element_wise(pa.repeat(m.id_prefix, n).cast(pa.string()), safe, "_")
            if m.id_prefix
            else safe
        )
        common = {
            "source_file": pa.repeat(batch.file, n).cast(pa.string()),
            "source_sheet": pa.repeat(batch.sheet, n).cast(pa.string()),
            "source_row": batch.rows,
        }
        self._ctx, self._batch = ctx, batch
        self._born = (
            births(
                column_or_nulls(t, m.date_of_birth.column),
                batch,
                m.date_of_birth.column,
                ctx.findings,
            )
            if m.date_of_birth
            else None
        )
        individuals = pa.table(
            {
                "phenopacket_id": pp_id,
                "subject_id": subject,
                "sex": self._value_map(m.sex, {"FEMALE", "MALE", "OTHER_SEX", "UNKNOWN_SEX"}),
                **self._time("last_encounter", m.age_at_last_encounter),
                **self._vital(pp_id, common),
                "alternate_ids": alternate_ids(m.alternate_ids, ctx, batch),
                "profile": pa.repeat(self.name, n).cast(pa.string()),
                "consent": self._consent(),
                **common,
            }
        )
        diseases = [self._diseases(d, pp_id, common) for d in m.diseases]
        features = [self._phenotypes(p, pp_id, common) for p in m.phenotypes]
        measurements = [self._measurement(c, pp_id, common) for c in m.measurements]
        tables: dict[str, pa.Table] = {"individuals": individuals}
        if diseases:
            tables["diseases"] = pa.concat_tables(diseases).sort_by("source_row")
        variants = (
            self._variants(pp_id, common, tables.get("diseases", schemas.empty("diseases")))
            if m.variants
            else None
        )
        if features:
            tables["phenotypic_features"] = pa.concat_tables(
                [schemas.conform("phenotypic_features", f) for f in features]
            ).sort_by([("source_row", "ascending")])
        if measurements:
            tables["measurements"] = pa.concat_tables(measurements)
        if variants is not None:
            tables["variants"] = variants
        extras = procedures(
            m.procedures,
            ctx,
            batch,
            pp_id,
            common,
            [self._time("performed", a.performed) for a in m.procedures],
        )
        if m.layout == "long":
            named = source_columns(m, "individuals")
            tables["individuals"] = merge_individuals(individuals, ctx.findings, named)
            tables = {name: without_repeats(name, table) for name, table in tables.items()}
        return MappedBatch.of(extras=extras, **tables)

    # -- helpers -------------------------------------------------------------------------
    def _flag(self, raw: pa.Array, mapped: pa.Array, column: str, category: str, hint: str) -> None:
        flag_unmapped(self._ctx, self._batch, raw, mapped, column, category, hint, VALIDATOR)

    def _value_map(self, vm: ValueMap | None, allowed: set[str]) -> pa.Array:
        n = self._batch.num_rows
        if vm is None:
            return pa.nulls(n, pa.string())
        lookup = {k.strip().lower(): v for k, v in vm.values.items()}
        raw = column_or_nulls(self._batch.table, vm.column)

        def code(v: str) -> str | None:
            hit = lookup.get(v.strip().lower(), v.strip().upper())
            return hit if hit in allowed else None

        out = map_distinct(raw, code, pa.string())
        self._flag(
            raw,
            out,
            vm.column,
            "bad-value",
            f"use one of {sorted(vm.values) or sorted(allowed)} or extend the mapping",
        )
        return out

    def _vital(self, pp_id: pa.Array, common: dict[str, pa.Array]) -> dict[str, pa.Array]:
        vs, n = self.mapping.vital_status, self._batch.num_rows
        if vs is None:
            return {"vital_status": pa.nulls(n, pa.string())}
        mapped = ValueMap(column=vs.column, values=vs.values) if vs.column else None
        status = self._value_map(mapped, {"ALIVE", "DECEASED", "UNKNOWN_STATUS"})
        death = self._time("time_of_death", vs.time_of_death)
        return vital_status(vs, status, death, self._ctx, self._batch, pp_id, common)

    def _consent(self) -> pa.Array:
        """Each row's own DUO codes (null where the cell is empty or there is no column).

        A code that is not a DUO permission or modifier is an error naming its cell, and
        its row's consent becomes empty (permits nothing) rather than the manifest's.
        """
        n = self._batch.num_rows
        col = self.mapping.consent
        if col is None:
            return pa.nulls(n, CODES)
        raw = column_or_nulls(self._batch.table, col.column)
        problems: dict[str, list[tuple[str, str]]] = {}  # cell -> (code, problem)

        def parse(cell: str) -> list[str] | None:
            codes = list(dict.fromkeys(c.strip() for c in cell.split(col.separator) if c.strip()))
            bad = [(c, p) for c in codes if (p := self._data_use.problem(c)) is not None]
            if bad:
                problems[cell] = bad
                return []  # fail closed: this row's consent permits nothing
            return codes or None

        parsed = map_distinct(raw, parse, CODES)
        batch = self._batch
        for cell, bad in problems.items():
            rows = np.flatnonzero(pc.equal(raw, cell).to_numpy(zero_copy_only=False))
            for i in rows.tolist():
                for code, problem in bad:
                    self._ctx.findings.add(
                        "error",
                        "unknown-consent-code",
                        f"consent code {code!r} {problem}",
                        VALIDATOR,
                        hint=f"use DUO codes ({self._data_use.describe()}), "
                        f"separated by {col.separator!r}",
                        file=batch.file,
                        sheet=batch.sheet,
                        row=batch.rows[i].as_py(),
                        column=col.column,
                        value=code,
                    )
        return parsed

    def _time(self, stem: str, col: AgeColumn | None) -> dict[str, pa.Array]:
        """The columns of one time (``stem``) read from ``col``, in any TimeElement form."""
        n = self._batch.num_rows
        if col is None:
            return times.nulls(stem, n)
        raw = column_or_nulls(self._batch.table, col.column)
        number = None if col.format == "iso8601" else age_converter(col.format)
        reader = times.TimeReader(self._onsets, number)
        out = map_distinct(raw, reader.pack, times.TIME_TYPE)
        unit = (
            "an ISO 8601 age like P3Y6M" if col.format == "iso8601" else f"a number of {col.format}"
        )
        self._flag(
            raw,
            out,
            col.column,
            "malformed-age",
            f"write {unit}, an HPO onset label such as 'Infantile onset', a gestational age "
            "such as G32w4d, an age range such as P1Y/P5Y, or a date",
        )
        parts = times.split(stem, out)
        if self._born is None:
            return parts
        return dates_to_ages(stem, parts, self._born, self._batch, col.column, self._ctx.findings)

    def _phenotypes(self, p: Any, pp_id: pa.Array, common: dict[str, pa.Array]) -> pa.Table:
        t = self._batch.table
        raw = column_or_nulls(t, p.column)
        when = {**self._time("onset", p.onset), **self._time("resolution", p.resolution)}
        if p.term is not None:
            values = {k.lower(): v for k, v in p.values.items()}
            status = map_distinct(raw, lambda v: values.get(v.strip().lower()), pa.string())
            self._flag(
                raw,
                status,
                p.column,
                "bad-value",
                f"use one of {sorted(values)} or extend 'values' in the mapping",
            )
            keep = pc.fill_null(
                pc.is_in(status, value_set=pa.array(["observed", "excluded"])), False
            )
            k = int(pc.sum(keep).as_py() or 0)
            return pa.table(
                {
                    "phenopacket_id": pp_id.filter(keep),
                    "term_id": pa.repeat(p.term, k).cast(pa.string()),
                    "excluded": pc.equal(status.filter(keep), "excluded"),
                    **{c: v.filter(keep) for c, v in when.items()},
                    **{c: v.filter(keep) for c, v in common.items()},
                    "source_column": pa.repeat(p.column, k).cast(pa.string()),
                    "raw_value": raw.filter(keep),
                    "resolution_method": pa.repeat("id", k).cast(pa.string()),
                }
            )
        # a delimited list of ids or labels: one feature per item
        split = pc.split_pattern(pc.fill_null(raw, ""), pattern=p.separator)
        parent = pc.list_parent_indices(split)
        items = pc.utf8_trim_whitespace(pc.list_flatten(split))
        nonempty = pc.not_equal(items, "")
        items, parent = items.filter(nonempty), parent.filter(nonempty)
        written = items  # the submitter's text, "NOT Macrocephaly" included
        excluded = pa.repeat(False, len(items))
        if p.excluded_prefix:
            pre = p.excluded_prefix.lower()
            excluded = pc.starts_with(pc.utf8_lower(items), pre)
            items = pc.if_else(excluded, pc.utf8_slice_codeunits(items, len(pre)), items)
            items = pc.utf8_trim_whitespace(items)
        enc = as_array(items).dictionary_encode()
        resolved = [
            self._resolve_text(p, text, items, parent) for text in enc.dictionary.to_pylist()
        ]
        ids = pa.array([r.term_id if r else None for r in resolved], pa.string()).take(enc.indices)
        labels = pa.array([r.label if r else None for r in resolved], pa.string()).take(enc.indices)
        method = pa.array([r.method if r else None for r in resolved], pa.string()).take(
            enc.indices
        )
        take = parent.cast(pa.int64())
        table = pa.table(
            {
                "phenopacket_id": pp_id.take(take),
                "term_id": ids,
                "term_label": labels,
                "excluded": excluded,
                **{c: v.take(take) for c, v in when.items()},
                **{c: v.take(take) for c, v in common.items()},
                "source_column": pa.repeat(p.column, len(items)).cast(pa.string()),
                "raw_value": written,
                "resolution_method": method,
            }
        )
        return table.filter(pc.is_valid(ids))

    def _diseases(self, d: DiseaseColumn, pp_id: pa.Array, common: dict[str, pa.Array]) -> pa.Table:
        """One row per disease an item of a cell names (see :mod:`.tabular_diseases`)."""
        rows, ids, labels = CodedColumn(d, self._ctx, self._batch).items()
        when = {**self._time("onset", d.onset), **self._time("resolution", d.resolution)}
        k = len(ids)
        return pa.table(
            {
                "phenopacket_id": pp_id.take(rows),
                "term_id": ids,
                "term_label": labels,
                "excluded": pa.repeat(False, k),
                **{c: v.take(rows) for c, v in when.items()},
                **{c: v.take(rows) for c, v in common.items()},
                "source_column": pa.repeat(d.column, k).cast(pa.string()),
            }
        )

    def _first_disease(self, diseases: pa.Table) -> tuple[pa.Array, pa.Array]:
        """Each row's first mapped disease (id, label): the diagnosis its variants explain."""
        n = self._batch.num_rows
        ids: list[str | None] = [None] * n
        labels: list[str | None] = [None] * n
        index = {r: i for i, r in enumerate(self._batch.rows.to_pylist())}
        for row, term, label in zip(
            diseases.column("source_row").to_pylist(),
            diseases.column("term_id").to_pylist(),
            diseases.column("term_label").to_pylist(),
            strict=True,
        ):
            i = index[row]
            if ids[i] is None:
                ids[i], labels[i] = term, label
        return pa.array(ids, pa.string()), pa.array(labels, pa.string())

    def _resolve_text(self, p: Any, text: str, items: pa.Array, parent: pa.Array) -> Any:
        """Resolve one distinct list item, with its first cell as the evidence's location."""
        where = np.flatnonzero(pc.equal(items, text).to_numpy(zero_copy_only=False))
        first = int(parent[int(where[0])].as_py()) if len(where) else 0
        loc = {
            "file": self._batch.file,
            "sheet": self._batch.sheet,
            "row": self._batch.rows[first].as_py(),
            "column": p.column,
            "value": text,
        }
        resolver = self._ctx.resolver
        assert resolver is not None, "the pipeline gives every profile a resolver"
        return resolver.resolve(p.ontology, text, loc, VALIDATOR, count=len(where))

    def _measurement(self, c: Any, pp_id: pa.Array, common: dict[str, pa.Array]) -> pa.Table:
        raw = column_or_nulls(self._batch.table, c.column)

        def number(v: str) -> float | None:
            try:
                return float(v.replace(",", "."))
            except ValueError:
                return None

        value = map_distinct(raw, number, pa.float64())
        self._flag(raw, value, c.column, "bad-value", "write a number (decimal point or comma)")
        keep = pc.is_valid(value)
        k = int(pc.sum(keep).as_py() or 0)
        return pa.table(
            {
                "phenopacket_id": pp_id.filter(keep),
                "assay_id": pa.repeat(c.assay, k).cast(pa.string()),
                "assay_label": pa.repeat(c.assay_label, k).cast(pa.string()),
                "value": value.filter(keep),
                "unit_id": pa.repeat(c.unit, k).cast(pa.string()),
                "unit_label": pa.repeat(c.unit_label, k).cast(pa.string()),
                **{
                    name: v.filter(keep)
                    for name, v in self._time("time_observed", c.time_observed).items()
                },
                **{name: v.filter(keep) for name, v in common.items()},
                "source_column": pa.repeat(c.column, k).cast(pa.string()),
            }
        )

    def _variants(
        self, pp_id: pa.Array, common: dict[str, pa.Array], diseases: pa.Table
    ) -> pa.Table:
        v = self.mapping.variants
        assert v is not None
        t, n = self._batch.table, self._batch.num_rows
        hgvs = column_or_nulls(t, v.hgvs_column)
        zyg_raw = column_or_nulls(t, v.zygosity_column)
        lookup = {k.lower(): val for k, val in v.zygosity_values.items()}
        zyg = map_distinct(zyg_raw, lambda s: lookup.get(s.strip().lower()), pa.string())
        self._flag(
            zyg_raw,
            zyg,
            v.zygosity_column or "",
            "bad-value",
            f"use one of {sorted(lookup)} or extend zygosity_values",
        )
        zyg_id = map_distinct(zyg, lambda s: GENO.get(s), pa.string())
        syntax = pc.if_else(
            pc.match_substring_regex(pc.fill_null(hgvs, ""), r":[cngmrp]\."),
            pc.binary_join_element_wise(
                pa.repeat("hgvs", n).cast(pa.string()),
                pc.extract_regex(pc.fill_null(hgvs, ""), r":(?P<s>[cngmrp])\.").field("s")
                if n
                else pa.array([], pa.string()),
                ".",
            ),
            pa.scalar(None, pa.string()),
        )
        keep = pc.is_valid(hgvs)
        disease_id, disease_label = self._first_disease(diseases)
        return pa.table(
            {
                "phenopacket_id": pp_id,
                "disease_id": disease_id,
                "disease_label": disease_label,
                "variant_id": pc.binary_join_element_wise(
                    pp_id, pa.repeat("variant", n).cast(pa.string()), ":"
                ),
                "gene_id": column_or_nulls(t, v.gene_column),
                "gene_symbol": column_or_nulls(t, v.gene_symbol_column),
                "hgvs": pc.if_else(pc.is_valid(syntax), hgvs, pa.scalar(None, pa.string())),
                "hgvs_syntax": syntax,
                "description": pc.if_else(pc.is_valid(syntax), pa.scalar(None, pa.string()), hgvs),
                "allelic_state_id": zyg_id,
                "allelic_state_label": zyg,
                "interpretation_status": pa.repeat("CAUSATIVE", n).cast(pa.string()),
                **common,
                "source_column": pa.repeat(v.hgvs_column, n).cast(pa.string()),
            }
        ).filter(keep)
