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

from harmonize.mapping import times
from harmonize.mapping.ages import iso_duration_mask
from harmonize.mapping.terms import prefix_of
from harmonize.quality.collect import FindingCollector
from harmonize.quality.findings import Level
from harmonize.quality.seen import SeenIds

REQUIRED = {
    "individuals": ("phenopacket_id",),
    "phenotypic_features": ("term_id",),
    "diseases": ("term_id",),
    "measurements": ("assay_id", "value"),
}
_AGE_PARTS = ("age", "age_range_start", "age_range_end")
# every column that holds an ISO 8601 duration: the ages and age ranges of each time
AGES = {
    name: tuple(times.column(stem, part) for stem in stems for part in _AGE_PARTS)
    for name, stems in {
        "individuals": ("last_encounter",),
        "phenotypic_features": ("onset", "resolution"),
        "diseases": ("onset", "resolution"),
        "measurements": ("time_observed",),
    }.items()
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


def fill_missing_labels(
    name: str, table: pa.Table, id_column: str, label_column: str, findings: FindingCollector
) -> pa.Table:
    """A term without a label (no ontology to look it up in, no label column) is labelled
    with its id, with a warning: a Phenopacket's ``OntologyClass`` needs a non-empty label."""
    if table.num_rows == 0 or id_column not in table.column_names:
        return table
    ids, labels = table.column(id_column), table.column(label_column)
    empty = pc.and_(pc.is_valid(ids), pc.fill_null(pc.equal(labels, ""), True))
    if not pc.any(empty).as_py():
        return table
    seen: set[str] = set()
    for i in _rows(empty):
        term = ids[i].as_py()
        if term in seen:
            continue
        seen.add(term)
        findings.add(
            "warning",
            "missing-label",
            f"{name}: {term} has no label (nothing to look it up in); its id is used as the label",
            "term-labels",
            hint=f"give its label in the data (for example a label column for {id_column})",
            value=term,
            **_where(table, i, id_column),
        )
    filled = pc.if_else(empty, ids, labels)
    return table.set_column(table.column_names.index(label_column), label_column, filled)


SUBJECT_POLICY = "policy:subject-required"


def check_subject(individuals: pa.Table, findings: FindingCollector) -> None:
    """The data centre's policy: every published Phenopacket names its subject.

    Phenopacket v2 makes ``subject`` optional, so ``harmonize validate`` does not ask for
    it; ingest does, as a policy (``Settings.require_subject``).
    """
    if individuals.num_rows == 0:
        return
    for i in _rows(pc.is_null(individuals.column("subject_id"))):
        findings.add(
            "error",
            "missing-subject",
            "the phenopacket has no subject: this data centre publishes only Phenopackets "
            "that name their individual",
            SUBJECT_POLICY,
            hint="add a subject with an id",
            **_where(individuals, i, "subject.id"),
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


def check_variant_diagnoses(variants: pa.Table, findings: FindingCollector) -> None:
    """A variant whose individual has no mapped disease cannot be an interpretation.

    A Phenopacket ``Diagnosis`` must name its disease, so such a variant stays in the
    variants table and is left out of the Phenopacket; this says so.
    """
    if variants.num_rows == 0:
        return
    for i in _rows(pc.is_null(variants.column("disease_id"))):
        variant = variants.column("hgvs")[i].as_py() or variants.column("description")[i].as_py()
        findings.add(
            "warning",
            "variant-without-diagnosis",
            f"variant {variant!r} has no disease to explain: it is kept in the variants "
            "table, but the Phenopacket has no interpretation for it",
            "variant-diagnoses",
            hint="map a disease for this individual (a diagnosis names its disease)",
            value=variant,
            **_where(variants, i, "variant"),
        )


def check_unique_ids(
    individuals: pa.Table, seen: SeenIds, findings: FindingCollector, *, level: Level = "error"
) -> pa.Array:
    """Flag phenopacket ids seen before in this submission; return the mask of first sightings.

    ``harmonize validate`` checks files one by one as the reference does, so an id seen in
    two of its files is a warning there (``level``).
    """
    ids = individuals.column("phenopacket_id").to_pylist()
    repeats = seen.repeats(ids)
    for i in np.flatnonzero(repeats).tolist():
        findings.add(
            level,
            "duplicate-id",
            f"individual {ids[i]!r} appears more than once in the submission",
            "unique-ids",
            hint="one row per individual: merge or rename the rows",
            value=ids[i],
            **_where(individuals, i, "individual_id"),
        )
    return pa.array(~repeats)


def ontology_class_ids(doc: dict[str, Any]) -> set[str]:
    """The id of every ``OntologyClass`` in a Phenopacket, as the reference's MetaData check
    finds them: by walking the protobuf message, so other ids (a variation descriptor's, a
    file's) never count."""
    from phenopackets.schema.v2 import OntologyClass

    from harmonize.quality.schema import message

    parsed = message(doc)  # shared with the schema checks: read-only
    if parsed is None:
        return set()
    found: set[str] = set()
    pending: list[Any] = [parsed]
    while pending:
        current = pending.pop()
        if isinstance(current, OntologyClass):
            found.add(current.id)
            continue
        for field, value in current.ListFields():
            if field.message_type is None or (current is parsed and field.name == "meta_data"):
                continue
            if field.label == field.LABEL_REPEATED:
                if field.message_type.GetOptions().map_entry:
                    pending.extend(v for v in value.values() if hasattr(v, "ListFields"))
                else:
                    pending.extend(value)
            else:
                pending.append(value)
    return found


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
    used = ontology_class_ids(doc)
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
