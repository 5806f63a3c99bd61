"""Spreadsheet error values (``#REF!``, ``#N/A``, ...) in a tabular submission: never data.

A formula that failed leaves its error code in the cell, and a CSV export or a cached xlsx
value carries it on as if it were text. :func:`strip_spreadsheet_errors` finds every such
cell of a raw batch, in mapped and unmapped columns alike, and reports it as a
``spreadsheet-error`` finding at its file, sheet, row and column (an error where the
mapping reads the column, a warning where it does not: that value is not published). A
column that holds nothing but error values is reported once, as an ``unusable-column``,
instead of cell by cell. The cells are then emptied, so that the mapping never reads a
code such as ``#N/A`` as a missing value or a label. Beyond the report's examples, the
collector keeps exact counts per column (:mod:`harmonize.quality.collect`).

>>> is_error_value(" #ref! "), is_error_value("#N/A"), is_error_value("N/A")
(True, True, False)
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Collection
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from openpyxl.cell.cell import ERROR_CODES

from harmonize.quality.collect import FindingCollector
from harmonize.readers.base import SourceBatch

VALIDATOR = "profile:tabular"
# openpyxl's error codes (the seven of Excel 2003 and later), then the newer ones of
# Excel 365 (dynamic arrays, data types, external links)
MEANING: dict[str, str] = {
    "#NULL!": "two ranges that do not intersect",
    "#DIV/0!": "a division by zero",
    "#VALUE!": "a value of the wrong type in a formula",
    "#REF!": "a reference to a cell that was deleted or moved",
    "#NAME?": "a function or range name the spreadsheet does not know",
    "#NUM!": "a number a formula cannot compute",
    "#N/A": "a lookup that found nothing",
    "#SPILL!": "a formula result that could not spill into its cells",
    "#CALC!": "a calculation the spreadsheet could not do",
    "#FIELD!": "a field missing from a linked data type",
    "#BLOCKED!": "a blocked external link",
    "#CONNECT!": "a connection that failed",
    "#BUSY!": "a value still being computed when the file was saved",
    "#UNKNOWN!": "a data type the spreadsheet does not know",
    "#GETTING_DATA": "a value still being fetched when the file was saved",
}
assert set(ERROR_CODES) <= set(MEANING)
CODES = pa.array(sorted(MEANING), pa.string())


def is_error_value(text: str) -> bool:
    return text.strip().upper() in MEANING


def _error_mask(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return pa.repeat(False, len(arr))
    upper = pc.utf8_upper(pc.utf8_trim_whitespace(arr))
    return pc.fill_null(pc.is_in(upper, value_set=CODES), False)


def strip_spreadsheet_errors(
    batch: SourceBatch,
    findings: FindingCollector,
    mapped: Collection[str],
    unusable: set[str],
    *,
    validator: str = VALIDATOR,
    reader: str = "the mapping",
) -> SourceBatch:
    """``batch`` with every spreadsheet error cell emptied, each one reported.

    ``mapped`` names the columns the mapping reads; ``unusable`` collects the columns
    already reported as holding nothing but errors (kept by the caller across batches,
    so such a column is reported once per submission). ``validator`` names the profile in
    the findings and ``reader`` what reads the columns ("the mapping", "the case template
    profile").
    """
    how = _How(validator, reader)
    table = batch.table
    columns = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        mask = _error_mask(column)
        hits = int(pc.sum(mask).as_py() or 0)
        if hits:
            _report(batch, findings, name, column, mask, hits, name in mapped, unusable, how)
            column = pc.if_else(mask, pa.scalar(None, column.type), column)
        columns.append(column)
    if len(columns) and any(c is not o for c, o in zip(columns, table.columns, strict=True)):
        table = pa.Table.from_arrays(columns, names=table.column_names)
        return dataclasses.replace(batch, table=table)
    return batch


@dataclasses.dataclass(frozen=True)
class _How:
    validator: str
    reader: str


def _report(
    batch: SourceBatch,
    findings: FindingCollector,
    name: str,
    column: pa.ChunkedArray,
    mask: pa.Array,
    hits: int,
    is_mapped: bool,
    unusable: set[str],
    how: _How,
) -> None:
    level = "error" if is_mapped else "warning"
    use = f"{how.reader} reads this column" if is_mapped else f"{how.reader} does not read it"
    cells = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    filled = int(
        pc.sum(pc.invert(pc.fill_null(pc.equal(pc.utf8_trim_whitespace(cells), ""), True))).as_py()
        or 0
    )
    where: dict[str, Any] = {"file": batch.file, "sheet": batch.sheet, "column": name}
    if hits == filled:  # nothing but errors: the column is unusable
        if name not in unusable:
            unusable.add(name)
            codes = Counter(str(v).strip().upper() for v in cells.filter(mask).to_pylist())
            listed = ", ".join(f"{code} \u00d7{n:,}" for code, n in codes.most_common())
            findings.add(
                level,  # type: ignore[arg-type]
                "unusable-column",
                f"column {name!r} holds nothing but spreadsheet error values ({listed}); {use}",
                how.validator,
                hint="the formulas behind this column failed: fix them in the spreadsheet "
                "(or paste the values), export again, and send the file again",
                data={"cells": hits, "codes": dict(codes)},
                **where,
            )
        return
    for i in np.flatnonzero(mask.to_numpy(zero_copy_only=False)).tolist():
        raw = str(cells[i].as_py())
        code = raw.strip().upper()
        findings.add(
            level,  # type: ignore[arg-type]
            "spreadsheet-error",
            f"spreadsheet error {code} ({MEANING[code]}) where a value should be; {use}",
            how.validator,
            hint="fix the formula in the spreadsheet (or write the value), export again, "
            "and send the file again; leave the cell empty if there is no value",
            row=batch.rows[i].as_py(),
            value=raw,
            **where,
        )
