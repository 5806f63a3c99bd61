"""Phenopacket-level validators over the harmonized tables (and original documents).

Column-wise checks: required fields, unique phenopacket ids across the submission,
ISO 8601 ages, and — for documents submitted as Phenopacket JSON — a MetaData resource
for every CURIE prefix the document uses. Term ids (unknown, obsolete) are checked in
:mod:`harmonize.mapping.terms`; ancestry conflicts in :mod:`harmonize.quality.semantic`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from harmonize.mapping.ages import iso_duration_mask
from harmonize.mapping.terms import prefix_of
from harmonize.quality.collect import FindingCollector

REQUIRED = {
    "individuals": ("phenopacket_id", "subject_id"),
    "phenotypic_features": ("term_id",),
    "diseases": ("term_id",),
    "measurements": ("assay_id", "value"),
}
AGES = {
    "individuals": ("age_at_last_encounter",),
    "phenotypic_features": ("onset_age",),
    "diseases": ("onset_age",),
    "measurements": ("time_observed_age",),
}


def _where(table: pa.Table, i: int, column: str) -> dict[str, Any]:
    def get(c: str) -> Any:
        return table.column(c)[i].as_py() if c in table.column_names else None

    return {
        "file": get("source_file"),
        "sheet": get("source_sheet"),
        "row": get("source_row"),
        "column": get("source_column") or column,
        "phenopacket_id": get("phenopacket_id"),
    }


def _rows(mask: pa.Array) -> Iterator[int]:
    for i in np.flatnonzero(pc.fill_null(mask, False).to_numpy(zero_copy_only=False)):
        yield int(i)


def check_required(name: str, table: pa.Table, findings: FindingCollector) -> None:
    for column in REQUIRED.get(name, ()):
        if column not in table.column_names:
            continue
        for i in _rows(pc.is_null(table.column(column))):
            findings.add(
                "error",
                "missing-required-field",
                f"{name}: required field {column} is empty",
                "required-fields",
                hint=f"give every record its {column}",
                **_where(table, i, column),
            )


def check_ages(name: str, table: pa.Table, findings: FindingCollector) -> None:
    for column in AGES.get(name, ()):
        if column not in table.column_names or table.num_rows == 0:
            continue
        values = table.column(column)
        bad = pc.and_(pc.is_valid(values), pc.invert(iso_duration_mask(values)))
        for i in _rows(bad):
            value = values[i].as_py()
            findings.add(
                "error",
                "malformed-age",
                f"{column} {value!r} is not an ISO 8601 duration",
                "iso8601-ages",
                hint="write ages as P3Y6M (3 years 6 months), P2W or P10D",
                value=value,
                **_where(table, i, column),
            )


def check_unique_ids(individuals: pa.Table, seen: set[str], findings: FindingCollector) -> pa.Array:
    """Flag phenopacket ids seen before in this submission; return the mask of first sightings."""
    ids = individuals.column("phenopacket_id").to_pylist()
    keep = np.ones(len(ids), dtype=bool)
    for i, pid in enumerate(ids):
        if pid is None:
            continue
        if pid in seen:
            keep[i] = False
            findings.add(
                "error",
                "duplicate-id",
                f"individual {pid!r} appears more than once in the submission",
                "unique-ids",
                hint="one row per individual: merge or rename the rows",
                value=pid,
                **_where(individuals, i, "individual_id"),
            )
        seen.add(pid)
    return pa.array(keep)


def _curies(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ident = node.get("id")
        if isinstance(ident, str) and "label" in node and prefix_of(ident):
            found.add(ident)
        for value in node.values():
            _curies(value, found)
    elif isinstance(node, list):
        for value in node:
            _curies(value, found)


def check_document(
    doc: dict[str, Any], file: str | None, row: int | None, findings: FindingCollector
) -> None:
    """MetaData checks for a submitted Phenopacket: required fields, a resource per prefix."""
    pid = doc.get("id")
    loc: dict[str, Any] = {"file": file, "row": row, "phenopacket_id": pid}
    if not pid:
        findings.add(
            "error",
            "missing-required-field",
            "phenopacket has no id",
            "required-fields",
            hint="give the phenopacket an id",
            path="id",
            **loc,
        )
    meta = doc.get("metaData")
    if not isinstance(meta, dict):
        findings.add(
            "error",
            "missing-required-field",
            "phenopacket has no metaData",
            "required-fields",
            hint="add metaData with created, createdBy, resources",
            path="metaData",
            **loc,
        )
        return
    for field in ("created", "createdBy", "phenopacketSchemaVersion"):
        if not meta.get(field):
            findings.add(
                "error",
                "missing-required-field",
                f"metaData.{field} is missing",
                "required-fields",
                hint=f"fill in metaData.{field}",
                path=f"metaData.{field}",
                **loc,
            )
    for i, feature in enumerate(doc.get("phenotypicFeatures") or []):
        if not (feature.get("type") or {}).get("id"):
            findings.add(
                "error",
                "missing-required-field",
                "phenotypic feature without a type",
                "required-fields",
                hint="give each feature an ontology class",
                path=f"phenotypicFeatures[{i}].type",
                **loc,
            )
    declared = {r.get("namespacePrefix") for r in meta.get("resources") or []}
    used: set[str] = set()
    _curies({k: v for k, v in doc.items() if k != "metaData"}, used)
    for prefix in sorted({p for p in (prefix_of(c) for c in used) if p} - declared):
        findings.add(
            "error",
            "missing-resource",
            f"prefix {prefix} is used but metaData.resources has no resource for it",
            "metadata-resources",
            hint=f"add a Resource with namespacePrefix {prefix!r} and its version",
            path="metaData.resources",
            value=prefix,
            **loc,
        )
