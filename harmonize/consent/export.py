"""The published rows whose individual's consent permits a use: ``harmonize tables export``.

Consent lives on ``individuals.consent`` (the row's own DUO codes where the mapping gave
a consent column, else its submission's). A row of any other table follows its
individual: it is exported when the row of ``individuals`` with the same
``submission_id`` and ``phenopacket_id`` is. Which codes permit which use is
:meth:`harmonize.consent.vocabulary.DataUse.permits`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from harmonize.consent.vocabulary import DataUse

if TYPE_CHECKING:
    from harmonize.warehouse import View, Warehouse

_SEP = "\x1f"


@dataclass(frozen=True)
class Export:
    """The exported rows of one table, and how many rows the table had."""

    table: str
    rows: pa.Table
    total: int
    individuals: int  # individuals whose consent permits the use


def permitted_mask(
    consent: pa.Array | pa.ChunkedArray, use: str, data_use: DataUse, meets: Collection[str] = ()
) -> pa.BooleanArray:
    """One bool per row of a ``consent`` (list of DUO codes) column; null lists permit nothing.

    >>> codes = pa.array([["DUO:0000006"], ["DUO:0000007"], None, []], pa.list_(pa.string()))
    >>> permitted_mask(codes, "DUO:0000006", DataUse()).to_pylist()
    [True, False, False, False]
    """
    decided: dict[tuple[str, ...], bool] = {}
    out = np.zeros(len(consent), dtype=np.bool_)
    for i, codes in enumerate(consent.to_pylist()):
        if not codes:
            continue
        key = tuple(codes)
        verdict = decided.get(key)
        if verdict is None:
            verdict = decided[key] = data_use.permits(key, use, meets)
        out[i] = verdict
    return pa.array(out, pa.bool_())


def _keys(table: pa.Table) -> pa.Array:
    joined = pc.binary_join_element_wise(
        table.column("submission_id"), table.column("phenopacket_id"), _SEP
    )
    return joined.combine_chunks() if isinstance(joined, pa.ChunkedArray) else joined


def export(
    warehouse: Warehouse,
    view: View,
    table: str,
    use: str,
    data_use: DataUse,
    meets: Collection[str] = (),
) -> Export:
    """The rows of ``table`` (as ``view`` sees it) whose individual's consent permits ``use``."""
    columns = None if table == "individuals" else ["submission_id", "phenopacket_id", "consent"]
    individuals = warehouse.read("individuals", view, columns=columns)
    mask = permitted_mask(individuals.column("consent"), use, data_use, meets)
    allowed = individuals.filter(mask)
    if table == "individuals":
        return Export(table, allowed, individuals.num_rows, allowed.num_rows)
    rows = warehouse.read(table, view)
    if rows.num_rows == 0:
        return Export(table, rows, 0, allowed.num_rows)
    keep = pc.is_in(_keys(rows), value_set=_keys(allowed))
    return Export(table, rows.filter(keep), rows.num_rows, allowed.num_rows)
