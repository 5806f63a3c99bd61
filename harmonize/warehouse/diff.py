"""What changed between two versions of a submission: rows added, removed and changed.

Rows are matched per table by a key (the individual, and what the row says about them);
a row whose key is in both versions but whose content differs is *changed*. Lineage
(``source_*``) and the version columns are not content: a row that only moved in the
submitter's file is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from harmonize.warehouse import TABLES, View, Warehouse

KEYS: dict[str, tuple[str, ...]] = {
    "individuals": ("phenopacket_id",),
    "phenotypic_features": ("phenopacket_id", "term_id", "excluded"),
    "diseases": ("phenopacket_id", "term_id", "excluded"),
    "variants": ("phenopacket_id", "variant_id"),
    "measurements": ("phenopacket_id", "assay_id", "time_observed_age", "time_observed_timestamp"),
    "procedures": ("phenopacket_id", "term_id", "performed_age", "performed_timestamp"),
    "treatments": ("phenopacket_id", "agent_id", "route_id"),
}
_NOT_CONTENT = {"submission_version", "source_file", "source_sheet", "source_row", "source_column"}


@dataclass(frozen=True)
class TableDiff:
    added: int
    removed: int
    changed: int

    def as_dict(self) -> dict[str, int]:
        return {"added": self.added, "removed": self.removed, "changed": self.changed}


def _rows(warehouse: Warehouse, name: str, view: View, submission_id: str) -> pa.Table:
    return warehouse.read(name, view, where={"submission_id": submission_id})


def _content(table: pa.Table) -> pa.Table:
    """One string per row: its content (everything but lineage), for comparison."""
    names = [n for n in table.column_names if n not in _NOT_CONTENT]
    if table.num_rows == 0:
        return table.select([]).append_column("_content", pa.array([], pa.string()))
    pieces: list[Any] = []
    for name in names:
        column = table.column(name)
        text = pc.cast(column, pa.string()) if not pa.types.is_list(column.type) else None
        if text is None:  # a list (consent): its elements, joined
            text = pc.binary_join(column, "|")
        pieces.append(pc.fill_null(text, "\x00"))
    return pa.table({"_content": pc.binary_join_element_wise(*pieces, "\x1f")})


def table_diff(old: pa.Table, new: pa.Table, keys: tuple[str, ...]) -> TableDiff:
    """Rows added, removed and changed from ``old`` to ``new`` (matched by ``keys``)."""

    def keyed(table: pa.Table) -> pa.Table:
        base = table.select(list(keys)).append_column(
            "_content", _content(table).column("_content")
        )
        return base.group_by(list(keys)).aggregate([("_content", "min")])

    a, b = keyed(old), keyed(new)
    joined = a.join(b, keys=list(keys), join_type="full outer", left_suffix="_old")
    old_c, new_c = joined.column("_content_min_old"), joined.column("_content_min")
    added = int(pc.sum(pc.and_(pc.is_null(old_c), pc.is_valid(new_c))).as_py() or 0)
    removed = int(pc.sum(pc.and_(pc.is_valid(old_c), pc.is_null(new_c))).as_py() or 0)
    both = pc.and_(pc.is_valid(old_c), pc.is_valid(new_c))
    changed = int(pc.sum(pc.and_(both, pc.not_equal(old_c, new_c))).as_py() or 0)
    return TableDiff(added, removed, changed)


def version_diff(
    warehouse: Warehouse, submission_id: str, old: View, new: View
) -> dict[str, TableDiff]:
    """Per table, what changed in a submission's rows between two publications' views."""
    return {
        name: table_diff(
            _rows(warehouse, name, old, submission_id),
            _rows(warehouse, name, new, submission_id),
            KEYS[name],
        )
        for name in TABLES
    }
