"""``hpo-case-template``: the pyphetools HPO case template used by phenopacket-store.

Layout: two header rows (names, then types or HPO ids), fixed columns ``PMID, title,
individual_id, comment, disease_id, disease_label, HGNC_id, gene_symbol, transcript,
allele_1, allele_2, variant.comment, age_of_onset, age_at_last_encounter, deceased, sex``,
a separator column ``HPO``, then one column per HPO term (label in row 1, id in row 2).
A term cell holds ``observed``, ``excluded``, ``na`` or blank, or an onset, meaning observed
with that onset: an ISO 8601 age (``P18Y``), an HPO onset label (``Congenital onset``), a
gestational age (``G32w4d``), an age range (``P1Y/P5Y``) or a date. ``age_of_onset`` and
``age_at_last_encounter`` take the same forms (:mod:`harmonize.mapping.times`).
Older templates lack ``deceased``. One row is one individual.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from harmonize.errors import MappingError
from harmonize.mapping import times
from harmonize.mapping.ages import onset_terms
from harmonize.mapping.profiles.base import (
    MappedBatch,
    MappingContext,
    Profile,
    flag_unmapped,
    register,
)
from harmonize.mapping.profiles.tabular_cells import strip_spreadsheet_errors
from harmonize.mapping.values import NA_VALUES, clean, column_or_nulls, map_distinct
from harmonize.readers.base import ReadOptions, SourceBatch

VALIDATOR = "profile:hpo-case-template"
REQUIRED = ("individual_id", "disease_id", "sex")
# the fixed columns the profile reads (comment and variant.comment are not read)
READ = (
    "PMID",
    "title",
    "individual_id",
    "disease_id",
    "disease_label",
    "HGNC_id",
    "gene_symbol",
    "transcript",
    "allele_1",
    "allele_2",
    "age_of_onset",
    "age_at_last_encounter",
    "deceased",
    "sex",
)
SEX = {"M": "MALE", "F": "FEMALE", "O": "OTHER_SEX", "U": "UNKNOWN_SEX"}
DECEASED = {"yes": "DECEASED", "no": "ALIVE", "y": "DECEASED", "n": "ALIVE"}
_CURIE_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*:\S+$")
_HGVS = re.compile(r"^(c|n|g|m|r|p)\.", re.IGNORECASE)
# status codes for a term cell
SKIP, OBSERVED, EXCLUDED, NOISE = 0, 1, 2, 3
GENO = {
    "heterozygous": ("GENO:0000135", "heterozygous"),
    "homozygous": ("GENO:0000136", "homozygous"),
}


@dataclass(frozen=True)
class TermColumn:
    index: int
    name: str  # unique table column name
    header: str  # row-1 label as written
    term_id: str  # row-2 id as written

    @property
    def free_text(self) -> bool:
        """A column such as 'Miscellaneous' whose cells list HPO labels, separated by ';'."""
        return not _CURIE_LIKE.match(self.term_id)


@dataclass(frozen=True)
class Cell:
    status: int
    onset: times.Time | None = None


def phenopacket_ids(pmid: pa.Array, individual: pa.Array) -> pa.Array:
    """``PMID_16965330_patient_1`` from ``PMID:16965330`` and ``patient 1``, as curators name them.

    Runs of other characters become one ``_``; none is left at either end.
    """
    left = pc.utf8_trim(pc.replace_substring_regex(pc.fill_null(pmid, ""), r"[^\pL\pN]+", "_"), "_")
    right = pc.utf8_trim(pc.replace_substring_regex(individual, r"[^\pL\pN]+", "_"), "_")
    joined = pc.binary_join_element_wise(left, right, "_")
    return pc.if_else(pc.is_null(pmid), right, joined)


@register
class CaseTemplateProfile(Profile):
    name = "hpo-case-template"
    description = "pyphetools HPO case template (phenopacket-store *_individuals.xlsx)"
    raw_suite = "raw/hpo-case-template"

    def configure(self, ctx: MappingContext) -> None:
        self._time = times.TimeReader(onset_terms(ctx.ontologies.get("HP")))
        self._unusable: set[str] = set()  # columns reported as holding only error values

    def clean(self, batch: SourceBatch, ctx: MappingContext) -> SourceBatch:
        """Spreadsheet error values (``#REF!``, ``#N/A``, ...) reported and emptied, before
        the raw checks see them, as the ``tabular`` profile does (:mod:`.tabular_cells`):
        errors in the columns this profile reads, warnings in the others."""
        try:
            terms = {c.name for c in self.term_columns(batch)}
        except MappingError:  # not a case template: map_batch says so
            terms = set()
        return strip_spreadsheet_errors(
            batch,
            ctx.findings,
            set(READ) | terms,
            self._unusable,
            validator=VALIDATOR,
            reader="the case template profile",
        )

    def read_options(self, ctx: MappingContext) -> ReadOptions:
        return ReadOptions(header_rows=2, batch_size=ctx.settings.batch_size)

    # -- layout -----------------------------------------------------------------------
    def term_columns(self, batch: SourceBatch) -> list[TermColumn]:
        names = batch.table.column_names
        if len(batch.headers) < 2:
            raise MappingError(
                "the case template needs two header rows (labels, then HPO ids)",
                file=batch.file,
                sheet=batch.sheet,
                row=2,
                hint="keep the template's second header row",
            )
        labels, ids = batch.headers[0], batch.headers[1]
        if "HPO" not in names:
            raise MappingError(
                "no 'HPO' separator column: this is not an HPO case template",
                file=batch.file,
                sheet=batch.sheet,
                row=1,
                hint="use the pyphetools template, or the 'tabular' profile with a mapping file",
            )
        missing = [c for c in REQUIRED if c not in names]
        if missing:
            raise MappingError(
                f"required column{'s' if len(missing) > 1 else ''} missing: {', '.join(missing)}",
                file=batch.file,
                sheet=batch.sheet,
                row=1,
                column=missing[0],
                hint="add the column(s) to the header row; see the template",
            )
        start = names.index("HPO") + 1
        out = []
        for j in range(start, len(names)):
            term = (ids[j] or "").strip()
            if not term and not (labels[j] or "").strip():
                continue
            out.append(TermColumn(j, names[j], (labels[j] or "").strip(), term))
        return out

    # -- cells --------------------------------------------------------------------------
    def classify(self, value: str) -> Cell:
        text = value.strip()
        low = text.lower()
        if low in NA_VALUES:
            return Cell(SKIP)
        if low in ("observed", "yes", "present", "+"):
            return Cell(OBSERVED)
        if low in ("excluded", "no", "absent"):
            return Cell(EXCLUDED)
        onset = self._time(text)
        if onset is not None:
            return Cell(OBSERVED, onset)
        return Cell(NOISE)

    def map_batch(self, batch: SourceBatch, ctx: MappingContext) -> MappedBatch:
        t = batch.table
        n = t.num_rows
        columns = self.term_columns(batch)
        individual = column_or_nulls(t, "individual_id")
        pmid = column_or_nulls(t, "PMID")
        pp_id = phenopacket_ids(pmid, individual)
        rows = batch.rows
        file_col = pa.repeat(batch.file, n).cast(pa.string())
        sheet_col = pa.nulls(n, pa.string()) if batch.sheet is None else pa.repeat(batch.sheet, n)
        common = {"source_file": file_col, "source_sheet": sheet_col, "source_row": rows}

        self._check_ids(batch, individual, ctx)
        individuals = self._individuals(batch, ctx, pp_id, individual, pmid, common)
        diseases = self._diseases(batch, ctx, pp_id, common)
        features = self._features(batch, ctx, pp_id, columns, common)
        variants = self._variants(batch, ctx, pp_id, common)
        return MappedBatch.of(
            individuals=individuals,
            phenotypic_features=features,
            diseases=diseases,
            variants=variants,
        )

    def _where(self, batch: SourceBatch, i: int, column: str, value: Any = None) -> dict[str, Any]:
        return {
            "file": batch.file,
            "sheet": batch.sheet,
            "row": batch.rows[i].as_py(),
            "column": column,
            "value": None if value is None else str(value),
        }

    def _check_ids(self, batch: SourceBatch, individual: pa.Array, ctx: MappingContext) -> None:
        for i in np.flatnonzero(individual.is_null().to_numpy(zero_copy_only=False)):
            ctx.findings.add(
                "error",
                "missing-required-field",
                "individual_id is empty: every row must name its individual",
                VALIDATOR,
                hint="fill in individual_id or delete the row",
                **self._where(batch, int(i), "individual_id"),
            )

    def _individuals(
        self,
        batch: SourceBatch,
        ctx: MappingContext,
        pp_id: pa.Array,
        individual: pa.Array,
        pmid: pa.Array,
        common: dict[str, pa.Array],
    ) -> pa.Table:
        t = batch.table
        raw_sex = column_or_nulls(t, "sex")
        sex = map_distinct(raw_sex, lambda v: SEX.get(v.strip().upper()), pa.string())
        self._flag(batch, ctx, raw_sex, sex, "sex", "bad-sex", "use M, F, O or U")
        raw_age = column_or_nulls(t, "age_at_last_encounter")
        age = map_distinct(raw_age, self._time.pack, times.TIME_TYPE)
        self._flag(
            batch,
            ctx,
            raw_age,
            age,
            "age_at_last_encounter",
            "malformed-age",
            "write an ISO 8601 age such as P3Y6M, an HPO onset label such as 'Infantile "
            "onset', a gestational age such as G32w4d, an age range such as P1Y/P5Y, a "
            "date, or na",
        )
        raw_dead = column_or_nulls(t, "deceased")
        vital = map_distinct(raw_dead, lambda v: DECEASED.get(v.strip().lower()), pa.string())
        self._flag(batch, ctx, raw_dead, vital, "deceased", "bad-value", "use yes, no or na")
        return pa.table(
            {
                "phenopacket_id": pp_id,
                "subject_id": individual,
                "sex": sex,
                **times.split("last_encounter", age),
                "vital_status": vital,
                "reference_id": pmid,
                "reference_description": column_or_nulls(t, "title"),
                "profile": pa.repeat(self.name, t.num_rows).cast(pa.string()),
                **common,
            }
        )

    def _flag(
        self,
        batch: SourceBatch,
        ctx: MappingContext,
        raw: pa.Array,
        mapped: pa.Array,
        column: str,
        category: str,
        hint: str,
    ) -> None:
        flag_unmapped(ctx, batch, raw, mapped, column, category, hint, VALIDATOR)

    def _diseases(
        self, batch: SourceBatch, ctx: MappingContext, pp_id: pa.Array, common: dict[str, pa.Array]
    ) -> pa.Table:
        t = batch.table
        disease = column_or_nulls(t, "disease_id")
        raw_onset = column_or_nulls(t, "age_of_onset")
        onset = map_distinct(raw_onset, self._time.pack, times.TIME_TYPE)
        unreadable = pc.and_(pc.is_valid(raw_onset), pc.is_null(onset))
        for i in np.flatnonzero(unreadable.to_numpy(zero_copy_only=False)):
            value = raw_onset[int(i)].as_py()
            ctx.findings.add(
                "warning",
                "malformed-age",
                f"age_of_onset {value!r} is not a time: not an ISO 8601 age, an HPO onset "
                "term, a gestational age, an age range or a date",
                VALIDATOR,
                hint="write P3Y6M, an HPO onset label such as 'Congenital onset', G32w4d, "
                "P1Y/P5Y or a date",
                **self._where(batch, int(i), "age_of_onset", value),
            )
        keep = pc.is_valid(disease)
        table = pa.table(
            {
                "phenopacket_id": pp_id,
                "term_id": disease,
                "term_label": column_or_nulls(t, "disease_label"),
                "excluded": pa.repeat(False, t.num_rows),
                **times.split("onset", onset),
                **common,
                "source_column": pa.repeat("disease_id", t.num_rows).cast(pa.string()),
            }
        )
        return table.filter(keep)

    def _features(
        self,
        batch: SourceBatch,
        ctx: MappingContext,
        pp_id: pa.Array,
        columns: list[TermColumn],
        common: dict[str, pa.Array],
    ) -> pa.Table:
        t = batch.table
        parts: list[pa.Table] = []
        for col in columns:
            raw = clean(t.column(col.name))
            if raw.null_count == len(raw):
                continue
            if col.free_text:
                free = self._free_text(batch, ctx, pp_id, col, raw, common)
                if free is not None:
                    parts.append(free)
                continue
            cells = map_distinct(raw, lambda v: _pack(self.classify(v)), _CELL_TYPE)
            status = pc.struct_field(cells, "status")
            noise = pc.fill_null(pc.equal(status, NOISE), False)
            for i in np.flatnonzero(noise.to_numpy(zero_copy_only=False)):
                value = raw[int(i)].as_py()
                ctx.findings.add(
                    "warning",
                    "unrecognized-cell",
                    f"cell {value!r} under {col.header or col.term_id} ({col.term_id}) is not "
                    "observed, excluded, na or an onset (an ISO 8601 age, an HPO onset label, "
                    "a gestational age, an age range or a date); ignored",
                    VALIDATOR,
                    hint="write observed, excluded, na, an age such as P2Y, or an onset label",
                    **self._where(batch, int(i), col.name, value),
                )
            keep = pc.fill_null(
                pc.is_in(status, value_set=pa.array([OBSERVED, EXCLUDED], pa.int8())), False
            )
            if not pc.any(keep).as_py():
                continue
            n = int(pc.sum(keep).as_py())
            part = pa.table(
                {
                    "phenopacket_id": pp_id.filter(keep),
                    "term_id": pa.repeat(col.term_id or None, n).cast(pa.string()),
                    "term_label": pa.repeat(col.header or None, n).cast(pa.string()),
                    "excluded": pc.equal(status.filter(keep), EXCLUDED),
                    **{
                        name: values.filter(keep)
                        for name, values in times.split(
                            "onset", pc.struct_field(cells, "onset")
                        ).items()
                    },
                    **{k: v.filter(keep) for k, v in common.items()},
                    "source_column": pa.repeat(col.header or col.name, n).cast(pa.string()),
                    "raw_value": raw.filter(keep),
                    "resolution_method": pa.repeat("id", n).cast(pa.string()),
                    "_order": pa.repeat(col.index, n).cast(pa.int32()),
                }
            )
            parts.append(part)
        if not parts:
            return pa.table({"phenopacket_id": pa.array([], pa.string())})
        table = pa.concat_tables(parts)
        table = table.sort_by([("source_row", "ascending"), ("_order", "ascending")])
        return table.drop_columns(["_order"])

    def _free_text(
        self,
        batch: SourceBatch,
        ctx: MappingContext,
        pp_id: pa.Array,
        col: TermColumn,
        raw: pa.Array,
        common: dict[str, pa.Array],
    ) -> pa.Table | None:
        """Observed terms named by label in a free-text column, resolved with evidence."""
        rows: dict[str, list[Any]] = {
            k: [] for k in ("i", "term_id", "term_label", "raw_value", "resolution_method")
        }
        for i in np.flatnonzero(raw.is_valid().to_numpy(zero_copy_only=False)):
            cell = str(raw[int(i)].as_py())
            for item in (x.strip() for x in cell.split(";")):
                if not item or item.lower() in NA_VALUES:
                    continue
                where = self._where(batch, int(i), col.header or col.name, item)
                assert ctx.resolver is not None, "the pipeline gives every profile a resolver"
                hit = ctx.resolver.resolve("HP", item, where, VALIDATOR)
                if hit is None:
                    continue
                rows["i"].append(int(i))
                rows["term_id"].append(hit.term_id)
                rows["term_label"].append(hit.label)
                rows["raw_value"].append(item)
                rows["resolution_method"].append(hit.method)
        if not rows["i"]:
            return None
        take = pa.array(rows["i"], pa.int64())
        n = len(rows["i"])
        return pa.table(
            {
                "phenopacket_id": pp_id.take(take),
                "term_id": pa.array(rows["term_id"], pa.string()),
                "term_label": pa.array(rows["term_label"], pa.string()),
                "excluded": pa.repeat(False, n),
                **times.nulls("onset", n),
                **{k: v.take(take) for k, v in common.items()},
                "source_column": pa.repeat(col.header or col.name, n).cast(pa.string()),
                "raw_value": pa.array(rows["raw_value"], pa.string()),
                "resolution_method": pa.array(rows["resolution_method"], pa.string()),
                "_order": pa.repeat(col.index, n).cast(pa.int32()),
            }
        )

    def _variants(
        self, batch: SourceBatch, ctx: MappingContext, pp_id: pa.Array, common: dict[str, pa.Array]
    ) -> pa.Table:
        t = batch.table
        a1 = column_or_nulls(t, "allele_1")
        a2 = column_or_nulls(t, "allele_2")
        transcript = column_or_nulls(t, "transcript")
        # zygosity: same allele twice -> homozygous (one variant); otherwise heterozygous each
        same = pc.fill_null(pc.equal(a1, a2), False)
        base = {
            "phenopacket_id": pp_id,
            "disease_id": column_or_nulls(t, "disease_id"),
            "disease_label": column_or_nulls(t, "disease_label"),
            "gene_id": column_or_nulls(t, "HGNC_id"),
            "gene_symbol": column_or_nulls(t, "gene_symbol"),
            "transcript": transcript,
            "interpretation_status": pa.repeat("CAUSATIVE", t.num_rows).cast(pa.string()),
            "progress_status": pa.repeat("SOLVED", t.num_rows).cast(pa.string()),
            **common,
        }
        het, hom = GENO["heterozygous"], GENO["homozygous"]
        parts = []
        for allele, column, keep in (
            (a1, "allele_1", pc.is_valid(a1)),
            (a2, "allele_2", pc.and_(pc.is_valid(a2), pc.invert(same))),
        ):
            zyg_id = pc.if_else(same, hom[0], het[0])
            zyg_label = pc.if_else(same, hom[1], het[1])
            is_hgvs = pc.match_substring_regex(
                pc.fill_null(allele, ""), _HGVS.pattern, ignore_case=True
            )
            hgvs = pc.if_else(
                pc.and_(is_hgvs, pc.is_valid(transcript)),
                pc.binary_join_element_wise(transcript, allele, ":"),
                pa.scalar(None, pa.string()),
            )
            syntax = pc.if_else(
                pc.is_valid(hgvs),
                pc.binary_join_element_wise(
                    pa.repeat("hgvs", t.num_rows).cast(pa.string()),
                    pc.utf8_lower(pc.utf8_slice_codeunits(pc.fill_null(allele, " "), 0, 1)),
                    ".",
                ),
                pa.scalar(None, pa.string()),
            )
            description = pc.if_else(pc.is_valid(hgvs), pa.scalar(None, pa.string()), allele)
            table = pa.table(
                {
                    **base,
                    "variant_id": pc.binary_join_element_wise(
                        pp_id, pa.repeat(column, t.num_rows).cast(pa.string()), ":"
                    ),
                    "hgvs": hgvs,
                    "hgvs_syntax": syntax,
                    "description": description,
                    "allelic_state_id": zyg_id,
                    "allelic_state_label": zyg_label,
                    "source_column": pa.repeat(column, t.num_rows).cast(pa.string()),
                }
            )
            parts.append(table.filter(keep))
        return pa.concat_tables(parts).sort_by([("source_row", "ascending")])


_CELL_TYPE = pa.struct([("status", pa.int8()), ("onset", times.TIME_TYPE)])


def _pack(cell: Cell) -> dict[str, Any]:
    return {"status": cell.status, "onset": None if cell.onset is None else cell.onset.as_row()}
