"""``layout: long``: one row per observation, many rows per individual.

Each row is mapped as a wide row is; then the rows of one individual are merged. The
individual's fields (sex, vital status, consent, ...) take the first row that fills them;
another row that fills one differently is a ``conflicting-values`` error at its cell. The
time at last encounter is the last row's that gives one (rows in time order). Repeated
diseases, phenotypic features and variants are kept once; every measurement is kept.

An individual's rows must all be in one batch, so a long file is read in one batch (its
rows, up to the ``max_rows`` limit, are held in memory together).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from harmonize.mapping import times
from harmonize.quality.collect import FindingCollector

VALIDATOR = "profile:tabular"
_KEEP = ("phenopacket_id", "subject_id", "profile", "source_file", "source_sheet", "source_row")
_LAST = "last_encounter"
# what makes a row of each table a repeat of another
_SAME: dict[str, tuple[str, ...]] = {
    "diseases": ("phenopacket_id", "term_id", "excluded"),
    "phenotypic_features": ("phenopacket_id", "term_id", "excluded", "onset_age"),
    "variants": ("phenopacket_id", "hgvs", "description", "gene_id"),
}


def merge_individuals(
    individuals: pa.Table, findings: FindingCollector, sources: dict[str, str]
) -> pa.Table:
    """One row per phenopacket id; ``sources`` names the submitter's column of a field."""
    rows = individuals.to_pylist()
    last = [times.column(_LAST, part) for part in times.PARTS]
    fields = [c for c in individuals.column_names if c not in _KEEP and c not in last]
    merged: dict[str, dict[str, Any]] = {}
    for row in rows:
        pid = row["phenopacket_id"]
        into = merged.get(pid)
        if into is None:
            merged[pid] = dict(row)
            continue
        if any(row[c] is not None for c in last):  # the later encounter
            into.update({c: row[c] for c in last})
        for c in fields:
            if row[c] is None:
                continue
            if into[c] is None:
                into[c] = row[c]
            elif into[c] != row[c]:
                column = sources.get(c, c)
                findings.add(
                    "error",
                    "conflicting-values",
                    f"{column} is {row[c]!r} here but {into[c]!r} on row {into['source_row']} "
                    f"of the same individual",
                    VALIDATOR,
                    hint="give an individual one value on all of its rows (or leave the "
                    "later rows empty)",
                    file=row["source_file"],
                    sheet=row["source_sheet"],
                    row=row["source_row"],
                    column=column,
                    value=str(row[c]),
                    phenopacket_id=pid,
                )
    return pa.Table.from_pylist(list(merged.values()), schema=individuals.schema)


def without_repeats(name: str, table: pa.Table) -> pa.Table:
    """``table`` with a row that repeats an earlier one (of the same individual) left out."""
    keys = _SAME.get(name)
    if keys is None or table.num_rows == 0:
        return table
    columns = [table.column(k).to_pylist() for k in keys]
    seen: set[tuple[Any, ...]] = set()
    keep: list[bool] = []
    for values in zip(*columns, strict=True):
        keep.append(values not in seen)
        seen.add(values)
    return table.filter(pa.array(keep))
