"""Harmonize term ids against the pinned ontologies, column-wise.

Every distinct id in a column is looked up once: an alternative id becomes its primary
id, an obsolete id with a ``replaced_by`` becomes the replacement (when replacements
are applied), labels come from the release, and the release is recorded per row.
Each change is a finding, never silent; unknown and consider-only obsolete ids are errors.

Ids of a code system with a code list (OMIM, ORPHA and DECIPHER from HPO's
``phenotype.hpoa``; WHO ICD-10) must be in the list: an unknown or retired id is an
error, an ICD-10 code written without its dot becomes the dotted code (a warning), and
a submitted label that disagrees with the list's names for the id is a warning
(``label-mismatch``). The submitter's label is kept; the list's fills a missing one.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from harmonize.mapping.values import as_array
from harmonize.ontology import Ontologies
from harmonize.ontology.codelists import CodeList
from harmonize.quality.collect import FindingCollector

VALIDATOR = "ontology-terms"
_CURIE = re.compile(r"^([A-Za-z][A-Za-z0-9_.-]*):(\S+)$")


@dataclass(frozen=True)
class TermFix:
    term_id: str | None
    label: str | None
    method: str | None
    release: str | None
    level: str | None = None  # a finding to raise: error | warning | info
    category: str | None = None
    message: str | None = None
    hint: str | None = None
    fill_label: str | None = None  # a label for rows without one (code lists)
    codes: CodeList | None = None  # the code list whose names a submitted label must fit

    @classmethod
    def problem(cls, curie: str, category: str, message: str, hint: str) -> TermFix:
        """An id that cannot be used as it is: an error, nothing resolved."""
        return cls(curie, None, None, None, "error", category, message, hint)


def prefix_of(curie: str) -> str | None:
    m = _CURIE.match(curie)
    return m.group(1) if m else None


def judge(
    curie: str, ontologies: Ontologies, *, replace: bool, example: str = "HP:0001250"
) -> TermFix:
    """What to do with one term id; ``example`` is a well-formed id of the same kind."""
    m = _CURIE.match(curie.strip())
    if not m:
        return TermFix.problem(
            curie,
            "malformed-curie",
            f"{curie!r} is not a CURIE such as {example}",
            f"write ids as PREFIX:ACCESSION, for example {example}",
        )
    prefix = m.group(1)
    codes = ontologies.code_list(prefix)
    if codes is not None:
        return _judge_listed(curie.strip(), codes)
    if not ontologies.has_index(prefix):
        if prefix not in ontologies.prefixes():
            return TermFix.problem(
                curie,
                "missing-resource",
                f"no ontology or code system is configured for prefix {prefix!r}",
                "use a supported prefix, or add the resource to ontologies/manifest.yaml",
            )
        if not ontologies.check_curie(curie):
            return TermFix.problem(
                curie,
                "malformed-curie",
                f"{curie!r} is not a valid {prefix} identifier",
                "check the identifier's format",
            )
        return TermFix(curie, None, "syntax", None)
    index = ontologies.get(prefix)
    code = index.code(curie)
    if code is None:
        return TermFix(
            curie,
            None,
            None,
            index.release,
            "error",
            "unknown-term",
            f"{curie} is not in {index.release}",
            "check the id for typos, or use a term that exists in this release",
        )
    primary, label = index.term_id(code), index.label(code)
    if index.is_obsolete(code):
        repl = index.replaced_by(code)
        if repl is not None and replace:
            rcode = index.code(repl)
            rlabel = index.label(rcode) if rcode is not None else None
            return TermFix(
                repl,
                rlabel,
                "replaced",
                index.release,
                "warning",
                "obsolete-term",
                f"{curie} is obsolete in {index.release}; replaced by {repl} {rlabel!r}",
                f"use {repl} in future submissions",
            )
        if repl is not None:
            return TermFix(
                curie,
                label,
                "id",
                index.release,
                "error",
                "obsolete-term",
                f"{curie} is obsolete in {index.release}; replaced by {repl}",
                f"use {repl} instead",
            )
        consider = ", ".join(index.consider(code)) or "no suggestion"
        return TermFix(
            curie,
            label,
            "id",
            index.release,
            "error",
            "obsolete-term",
            f"{curie} is obsolete in {index.release} with no replacement (consider: {consider})",
            "choose a current term",
        )
    if primary != curie:
        return TermFix(
            primary,
            label,
            "alt_id",
            index.release,
            "warning",
            "alternative-id",
            f"{curie} is an alternative id of {primary} {label!r}",
            f"use the primary id {primary}",
        )
    return TermFix(primary, label, "id", index.release)


def _judge_listed(curie: str, codes: CodeList) -> TermFix:
    """An id of a code system with a code list."""
    primary = codes.primary(curie)
    if primary is None:
        return TermFix(
            curie,
            None,
            None,
            codes.release,
            "error",
            "unknown-term",
            f"{curie} is not in {codes.release} ({len(codes):,} ids): unknown or retired",
            "check the id for typos; a retired id must be replaced by its current one",
        )
    label = codes.label(primary)
    if primary != curie:
        return TermFix(
            primary,
            None,
            "alt_id",
            codes.release,
            "warning",
            "alternative-id",
            f"{curie} is written without its dot; it is {primary} {label!r}",
            f"write {primary}",
            fill_label=label,
            codes=codes,
        )
    return TermFix(primary, None, "id", codes.release, fill_label=label, codes=codes)


def harmonize_terms(
    table: pa.Table,
    ontologies: Ontologies,
    findings: FindingCollector,
    *,
    id_column: str = "term_id",
    label_column: str | None = "term_label",
    replace: bool = True,
    keep_labels: bool = False,
    validator: str = VALIDATOR,
    obsolete_level: str | None = None,
    example: str = "HP:0001250",
) -> pa.Table:
    """Check and normalize one id column of a harmonized table; findings go to ``findings``.

    ``example`` is a well-formed id of the column's kind, which messages cite (a disease
    code for a disease column, not an HPO id).

    ``obsolete_level`` overrides the level of obsolete-term findings (``harmonize
    validate`` reports them as warnings, as the reference validator does).
    """
    if table.num_rows == 0 or id_column not in table.column_names:
        return table
    ids = as_array(table.column(id_column))
    enc = pc.dictionary_encode(ids)
    fixes = [
        judge(v, ontologies, replace=replace, example=example) for v in enc.dictionary.to_pylist()
    ]
    if obsolete_level is not None:
        fixes = [
            dataclasses.replace(f, level=obsolete_level) if f.category == "obsolete-term" else f
            for f in fixes
        ]
    new_ids = pa.array([f.term_id for f in fixes], pa.string()).take(enc.indices)
    out = table.set_column(table.column_names.index(id_column), id_column, new_ids)
    if label_column and label_column in out.column_names:
        _label_mismatches(out, enc, fixes, label_column, findings, validator)
        ont_labels = pa.array([f.label for f in fixes], pa.string()).take(enc.indices)
        fill = pa.array([f.fill_label for f in fixes], pa.string()).take(enc.indices)
        old = as_array(out.column(label_column))
        merged = (
            pc.coalesce(old, ont_labels, fill)
            if keep_labels
            else pc.coalesce(ont_labels, old, fill)
        )
        out = out.set_column(out.column_names.index(label_column), label_column, merged)
    primary = id_column == "term_id"  # method and release describe the row's own term
    if primary and "resolution_method" in out.column_names:
        fixed_method = pa.array(
            [f.method if f.method in ("replaced", "alt_id") else None for f in fixes], pa.string()
        ).take(enc.indices)
        method = pc.coalesce(
            fixed_method,
            as_array(out.column("resolution_method")),
            pa.array([f.method for f in fixes], pa.string()).take(enc.indices),
        )
        out = out.set_column(
            out.column_names.index("resolution_method"), "resolution_method", method
        )
    if primary and "ontology_release" in out.column_names:
        release = pa.array([f.release for f in fixes], pa.string()).take(enc.indices)
        out = out.set_column(
            out.column_names.index("ontology_release"), "ontology_release", release
        )
    _report(out, ids, enc, fixes, findings, id_column, validator)
    return out


def _label_mismatches(
    table: pa.Table,
    enc: Any,
    fixes: list[TermFix],
    label_column: str,
    findings: FindingCollector,
    validator: str,
) -> None:
    """A warning per distinct (id, submitted label) a code list names otherwise."""
    listed = np.array([f.codes is not None for f in fixes], dtype=bool)
    if not listed.any():
        return
    indices = enc.indices.to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(listed[indices])
    labels = as_array(table.column(label_column)).take(pa.array(rows))
    pairs = pa.table({"k": pa.array(indices[rows]), "label": labels, "i": pa.array(rows)})
    pairs = pairs.filter(pc.is_valid(pairs.column("label")))
    if pairs.num_rows == 0:
        return
    grouped = pairs.group_by(["k", "label"], use_threads=False).aggregate(
        [("i", "min"), ("i", "count")]
    )
    columns = table.column("source_column") if "source_column" in table.column_names else None
    for k, label, first, count in zip(
        grouped.column("k").to_pylist(),
        grouped.column("label").to_pylist(),
        grouped.column("i_min").to_pylist(),
        grouped.column("i_count").to_pylist(),
        strict=True,
    ):
        fix = fixes[k]
        if fix.codes is None or fix.term_id is None or fix.codes.agrees(fix.term_id, label):
            continue
        findings.add(
            "warning",
            "label-mismatch",
            f"{label!r} does not match {fix.term_id}: {fix.codes.release} names it "
            f"{fix.fill_label!r}",
            validator,
            hint=f"check that {fix.term_id} is the disease meant, or correct the label",
            data={"count": count, "term_id": fix.term_id, "label": label},
            file=_get(table, "source_file", first),
            sheet=_get(table, "source_sheet", first),
            row=_get(table, "source_row", first),
            column=columns[first].as_py() if columns is not None else label_column,
            value=label,
            phenopacket_id=_get(table, "phenopacket_id", first),
        )


def _report(
    table: pa.Table,
    ids: pa.Array,
    enc: Any,
    fixes: list[TermFix],
    findings: FindingCollector,
    id_column: str,
    validator: str,
) -> None:
    """One finding per distinct problem id and source column, with the count and first row."""
    if all(fix.level is None for fix in fixes):
        return  # the usual case: nothing to report, so nothing to convert
    indices = enc.indices.to_numpy(zero_copy_only=False)
    columns = (
        table.column("source_column").to_pylist()
        if "source_column" in table.column_names
        else [id_column] * table.num_rows
    )
    for k, fix in enumerate(fixes):
        if fix.level is None:
            continue
        where = np.flatnonzero(indices == k)
        by_column: dict[str | None, list[int]] = {}
        for i in where:
            by_column.setdefault(columns[int(i)], []).append(int(i))
        for column, rows in by_column.items():
            first = rows[0]
            findings.add(
                fix.level,  # type: ignore[arg-type]
                fix.category or "term",
                fix.message or "",
                validator,
                hint=fix.hint,
                data={"count": len(rows), "term_id": ids[first].as_py(), "now": fix.term_id},
                file=_get(table, "source_file", first),
                sheet=_get(table, "source_sheet", first),
                row=_get(table, "source_row", first),
                column=column,
                value=ids[first].as_py(),
                phenopacket_id=_get(table, "phenopacket_id", first),
            )


def _get(table: pa.Table, column: str, i: int) -> Any:
    return table.column(column)[i].as_py() if column in table.column_names else None
