"""Procedure columns of the ``tabular`` profile, published as Phenopacket ``medicalActions``.

A procedure column is read like a disease column (codes, labels or both, a value map, a
separator; :mod:`.tabular_diseases`), its ids are checked against the pinned releases and
code systems exactly as the harmonized tables' ids are (:func:`harmonize_terms`, with the
same findings at the submitter's row and column), and a procedure without a label takes
its id, with the same warning. They reach the Phenopackets as the batch's ``extras``,
``{"procedure": {"code", "performed"}}``, and the ``procedures`` table from there
(:mod:`harmonize.mapping.actions`), with their cell as lineage.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from harmonize.mapping import times
from harmonize.mapping.actions import with_source
from harmonize.mapping.profiles.base import MappingContext
from harmonize.mapping.profiles.mapping_file import ProcedureColumn
from harmonize.mapping.profiles.tabular_diseases import CodedColumn
from harmonize.mapping.terms import harmonize_terms
from harmonize.quality.validators import fill_missing_labels
from harmonize.readers.base import SourceBatch

EXAMPLE = "SNOMEDCT:80146002"


def procedures(
    specs: list[ProcedureColumn],
    ctx: MappingContext,
    batch: SourceBatch,
    pp_id: pa.Array,
    common: dict[str, pa.Array],
    performed: list[dict[str, pa.Array]],
) -> dict[str, dict[str, Any]]:
    """``medicalActions`` by phenopacket id; ``performed[k]`` are spec ``k``'s time columns."""
    actions: dict[str, list[dict[str, Any]]] = {}
    for spec, when in zip(specs, performed, strict=True):
        rows, ids, labels = CodedColumn(spec, ctx, batch).items()
        k = len(ids)
        table = pa.table(
            {
                "phenopacket_id": pp_id.take(rows),
                "term_id": ids,
                "term_label": labels,
                **{c: v.take(rows) for c, v in common.items()},
                "source_column": pa.repeat(spec.column, k).cast(pa.string()),
                **{c: v.take(rows) for c, v in when.items()},
            }
        )
        table = harmonize_terms(table, ctx.ontologies, ctx.findings, example=EXAMPLE)
        table = fill_missing_labels("procedures", table, "term_id", "term_label", ctx.findings)
        for row in table.to_pylist():
            procedure: dict[str, Any] = {"code": {"id": row["term_id"], "label": row["term_label"]}}
            element = times.element(times.row_parts("performed", row))
            if element:
                procedure["performed"] = element
            action = with_source(
                {"procedure": procedure},
                row["source_file"],
                row["source_sheet"],
                row["source_row"],
                row["source_column"],
            )
            actions.setdefault(row["phenopacket_id"], []).append(action)
    return {pid: {"medicalActions": found} for pid, found in actions.items()}
