"""The subject's other identifiers and vital status in the ``tabular`` profile.

``alternate_ids``: one or several columns whose cells (or items, with a ``separator``) are
the individual's other identifiers, published as ``subject.alternateIds``. Each must be a
CURIE (``UKB:1000011``; with the column's ``prefix`` a bare ``1000011`` becomes one); a
prefix Harmonize knows (``ontologies/manifest.yaml``) must fit its id pattern too. Anything
else is a ``malformed-alternate-id`` error at its cell.

``vital_status``: the status column's value map (ALIVE, DECEASED, UNKNOWN_STATUS), a cause
of death read like a disease cell (a code, a label, or both; checked against the pinned
code lists as diseases are) and a time of death (an age, or a date that becomes an age
with the date of birth). A cause or a time of death makes a row without a status
DECEASED; on a row whose status is something else it is a ``conflicting-vital-status``
error at its cell.

>>> as_curie("1000011", "UKB"), as_curie("UKB:1000011", None), as_curie("1000011", None)
('UKB:1000011', 'UKB:1000011', None)
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from harmonize.mapping.profiles.base import MappingContext
from harmonize.mapping.profiles.mapping_file import AlternateIdColumn, VitalStatusMap
from harmonize.mapping.profiles.tabular_diseases import CodedColumn
from harmonize.mapping.terms import harmonize_terms
from harmonize.mapping.values import column_or_nulls
from harmonize.quality.validators import fill_missing_labels
from harmonize.readers.base import SourceBatch

VALIDATOR = "profile:tabular"
EXAMPLE = "ICD10:I21.9"
IDS = pa.list_(pa.string())
_CURIE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*:[^\s:]\S*$")


def as_curie(text: str, prefix: str | None) -> str | None:
    """``text`` as a CURIE (``prefix`` added to a bare value), or None if it cannot be one."""
    text = text.strip()
    if _CURIE.match(text):
        return text
    if prefix is not None and text and not any(c.isspace() for c in text):
        candidate = f"{prefix}:{text}"
        return candidate if _CURIE.match(candidate) else None
    return None


def alternate_ids(
    specs: list[AlternateIdColumn], ctx: MappingContext, batch: SourceBatch
) -> pa.Array:
    """Each row's alternate ids (null where it has none), in column order, each once."""
    n = batch.num_rows
    found: list[list[str]] = [[] for _ in range(n)]
    known = set(ctx.ontologies.prefixes())
    for spec in specs:
        raw = column_or_nulls(batch.table, spec.column).to_pylist()
        for i, cell in enumerate(raw):
            if cell is None:
                continue
            items = cell.split(spec.separator) if spec.separator else [cell]
            for item in (x.strip() for x in items):
                if not item:
                    continue
                curie = as_curie(item, spec.prefix)
                problem = None
                if curie is None:
                    problem = f"{item!r} is not a CURIE such as UKB:1000011"
                elif curie.split(":", 1)[0] in known and not ctx.ontologies.check_curie(curie):
                    problem = f"{curie!r} is not a valid {curie.split(':', 1)[0]} identifier"
                if problem is not None:
                    ctx.findings.add(
                        "error",
                        "malformed-alternate-id",
                        f"alternate id {problem}",
                        VALIDATOR,
                        hint="write PREFIX:ID (or give the column a 'prefix' in the mapping "
                        "for bare ids)",
                        file=batch.file,
                        sheet=batch.sheet,
                        row=batch.rows[i].as_py(),
                        column=spec.column,
                        value=item,
                    )
                elif curie not in found[i]:
                    assert curie is not None
                    found[i].append(curie)
    return pa.array([ids or None for ids in found], IDS)


def vital_status(
    spec: VitalStatusMap,
    status: pa.Array,
    death: dict[str, pa.Array],
    ctx: MappingContext,
    batch: SourceBatch,
    pp_id: pa.Array,
    common: dict[str, pa.Array],
) -> dict[str, pa.Array]:
    """The individuals table's vital status columns: status, cause and time of death.

    ``status`` is the value-mapped status column (nulls without one); ``death`` the time of
    death's columns, already read (dates turned into ages).
    """
    n = batch.num_rows
    cause_id: list[str | None] = [None] * n
    cause_label: list[str | None] = [None] * n
    cod = spec.cause_of_death
    if cod is not None:
        rows, ids, labels = CodedColumn(cod, ctx, batch).items()
        table = pa.table(
            {
                "phenopacket_id": pp_id.take(rows),
                "term_id": ids,
                "term_label": labels,
                **{c: v.take(rows) for c, v in common.items()},
                "source_column": pa.repeat(cod.column, len(ids)).cast(pa.string()),
            }
        )
        table = harmonize_terms(table, ctx.ontologies, ctx.findings, example=EXAMPLE)
        table = fill_missing_labels("cause of death", table, "term_id", "term_label", ctx.findings)
        for i, term, label in zip(
            rows.to_pylist(),
            table.column("term_id").to_pylist(),
            table.column("term_label").to_pylist(),
            strict=True,
        ):
            cause_id[i], cause_label[i] = term, label
    has_cause = pa.array([c is not None for c in cause_id])
    has_time = pa.repeat(False, n)
    for values in death.values():
        has_time = pc.or_(has_time, pc.is_valid(values))
    given = pc.or_(has_cause, has_time)
    out_status = pc.if_else(pc.and_(given, pc.is_null(status)), "DECEASED", status)
    conflict = pc.fill_null(pc.and_(given, pc.not_equal(status, "DECEASED")), False)
    for i in np.flatnonzero(conflict.to_numpy(zero_copy_only=False)).tolist():
        column = cod.column if cause_id[i] is not None and cod else None
        if column is None and spec.time_of_death is not None:
            column = spec.time_of_death.column
        ctx.findings.add(
            "error",
            "conflicting-vital-status",
            f"a {'cause' if cause_id[i] else 'time'} of death is given, but the vital "
            f"status is {status[i].as_py()}",
            VALIDATOR,
            hint=f"set {spec.column!r} to the value meaning deceased, or empty this cell",
            file=batch.file,
            sheet=batch.sheet,
            row=batch.rows[i].as_py(),
            column=column,
            value=cause_id[i],
        )
    return {
        "vital_status": out_status,
        "cause_of_death_id": pa.array(cause_id, pa.string()),
        "cause_of_death_label": pa.array(cause_label, pa.string()),
        **death,
    }
