"""``phenopacket``: Phenopacket v2 JSON, re-validated and republished as it is.

Each document is parsed with the official protobuf schema (the ``phenopackets``
package), so unknown fields and wrong types are findings pointing at the document.
Accepted documents are published unchanged; their flattened form feeds the tables.
"""

from __future__ import annotations

import functools
from typing import Any

import orjson
import pyarrow as pa

from harmonize.mapping import times
from harmonize.mapping.actions import action_rows
from harmonize.mapping.profiles.base import MappedBatch, MappingContext, Profile, register
from harmonize.quality.schema import (
    SchemaError,
    canonical_form,
    conforms,
    parse_text,
    schema_errors,
)
from harmonize.readers.base import SourceBatch

VALIDATOR = "profile:phenopacket"


def _term(obj: dict[str, Any] | None) -> tuple[str | None, str | None]:
    if not obj:
        return None, None
    return obj.get("id"), obj.get("label")


@functools.cache
def _enum_names() -> dict[str, dict[int, str]]:
    """Value names of the enums :func:`flatten` reads, by number."""
    from phenopackets.schema.v2 import (
        GenomicInterpretation,
        Individual,
        Interpretation,
        VitalStatus,
    )

    fields = {
        "sex": Individual.DESCRIPTOR.fields_by_name["sex"],
        "vital_status": VitalStatus.DESCRIPTOR.fields_by_name["status"],
        "interpretation_status": GenomicInterpretation.DESCRIPTOR.fields_by_name[
            "interpretation_status"
        ],
        "progress_status": Interpretation.DESCRIPTOR.fields_by_name["progress_status"],
    }
    return {k: {v.number: v.name for v in f.enum_type.values} for k, f in fields.items()}


def _enum(value: Any, field: str) -> str | None:
    """An enum value as its name: proto3 JSON also allows its number (``"sex": 2``)."""
    if value is None or (isinstance(value, str) and not value.lstrip("-").isdigit()):
        return value
    number = int(value)
    return _enum_names()[field].get(number, str(number))  # open enums keep unknown numbers


def _number(value: Any) -> float | None:
    """A double: proto3 JSON also allows strings such as "12.5", "NaN" and "Infinity"."""
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _position(value: Any) -> int | None:
    """A VCF position (proto3 JSON writes uint64 as a string); None when absent or not one."""
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


@functools.cache
def _columns(stem: str) -> tuple[tuple[str, str], ...]:
    return tuple((part, times.column(stem, part)) for part in times.PARTS)


def _time(stem: str, obj: dict[str, Any] | None) -> dict[str, Any]:
    """A submitted ``TimeElement`` as the table columns of ``stem``."""
    if not obj:  # most onsets and resolutions: absent
        return dict.fromkeys((column for _, column in _columns(stem)), None)
    row = times.from_element(obj).as_row()
    return {column: row[part] for part, column in _columns(stem)}


def qualitative(measurement: dict[str, Any]) -> bool:
    """Whether a Measurement's value is an ontology class or a ComplexValue, not a quantity."""
    value = measurement.get("value") or {}
    return bool(value.get("ontologyClass") or measurement.get("complexValue"))


def _annotation_row(
    pid: Any, obj: dict[str, Any], key: str, where: dict[str, Any], column: str
) -> dict[str, Any]:
    """A phenotypic feature or a disease: an ontology class, excluded, an onset."""
    tid, label = _term(obj.get(key))
    return {
        "phenopacket_id": pid,
        "term_id": tid,
        "term_label": label,
        "excluded": bool(obj.get("excluded", False)),
        **_time("onset", obj.get("onset")),
        **_time("resolution", obj.get("resolution")),
        **where,
        "source_column": column,
    }


def flatten(doc: dict[str, Any], where: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """One phenopacket as rows of the harmonized tables."""
    pid = doc.get("id")
    subject = doc.get("subject") or {}
    ref = ((doc.get("metaData") or {}).get("externalReferences") or [{}])[0]
    out: dict[str, list[dict[str, Any]]] = {
        k: []
        for k in ("individuals", "phenotypic_features", "diseases", "variants", "measurements")
    }
    vital = subject.get("vitalStatus") or {}
    cause_id, cause_label = _term(vital.get("causeOfDeath"))
    out["individuals"].append(
        {
            "phenopacket_id": pid,
            "subject_id": subject.get("id"),
            "sex": _enum(subject.get("sex"), "sex"),
            "date_of_birth": subject.get("dateOfBirth"),
            **_time("last_encounter", subject.get("timeAtLastEncounter")),
            "vital_status": _enum(vital.get("status"), "vital_status"),
            "cause_of_death_id": cause_id,
            "cause_of_death_label": cause_label,
            **_time("time_of_death", vital.get("timeOfDeath")),
            "alternate_ids": [str(a) for a in subject.get("alternateIds") or []] or None,
            "reference_id": ref.get("id"),
            "reference_description": ref.get("description"),
            "profile": "phenopacket",
            **where,
        }
    )
    for i, f in enumerate(doc.get("phenotypicFeatures") or []):
        row = _annotation_row(pid, f, "type", where, f"phenotypicFeatures[{i}]")
        out["phenotypic_features"].append(
            {**row, "raw_value": row["term_id"], "resolution_method": "id"}
        )
    for i, d in enumerate(doc.get("diseases") or []):
        out["diseases"].append(_annotation_row(pid, d, "term", where, f"diseases[{i}]"))
    for i, interp in enumerate(doc.get("interpretations") or []):
        diagnosis = interp.get("diagnosis") or {}
        did, dlabel = _term(diagnosis.get("disease"))
        for j, gi in enumerate(diagnosis.get("genomicInterpretations") or []):
            vd = (gi.get("variantInterpretation") or {}).get("variationDescriptor") or {}
            gene = vd.get("geneContext") or (gi.get("gene") or {})
            expr: dict[str, Any] = next(
                (
                    e
                    for e in vd.get("expressions") or []
                    if str(e.get("syntax", "")).startswith("hgvs")
                ),
                {},
            )
            zid, zlabel = _term(vd.get("allelicState"))
            vcf = vd.get("vcfRecord") or {}
            out["variants"].append(
                {
                    "phenopacket_id": pid,
                    "variant_id": vd.get("id"),
                    "disease_id": did,
                    "disease_label": dlabel,
                    "gene_id": gene.get("valueId"),
                    "gene_symbol": gene.get("symbol"),
                    "hgvs": expr.get("value"),
                    "hgvs_syntax": expr.get("syntax"),
                    "vcf_assembly": vcf.get("genomeAssembly"),
                    "vcf_chrom": vcf.get("chrom"),
                    "vcf_pos": _position(vcf.get("pos")),
                    "vcf_ref": vcf.get("ref"),
                    "vcf_alt": vcf.get("alt"),
                    "description": vd.get("label") or vd.get("description"),
                    "allelic_state_id": zid,
                    "allelic_state_label": zlabel,
                    "interpretation_status": _enum(
                        gi.get("interpretationStatus"), "interpretation_status"
                    ),
                    "progress_status": _enum(interp.get("progressStatus"), "progress_status"),
                    **where,
                    "source_column": f"interpretations[{i}].diagnosis.genomicInterpretations[{j}]",
                }
            )
    for i, m in enumerate(doc.get("measurements") or []):
        if qualitative(m):  # the table holds quantities only; the document keeps the rest
            continue
        aid, alabel = _term(m.get("assay"))
        quantity = (m.get("value") or {}).get("quantity")
        uid, ulabel = _term((quantity or {}).get("unit"))
        out["measurements"].append(
            {
                "phenopacket_id": pid,
                "assay_id": aid,
                "assay_label": alabel,
                # proto3 JSON leaves out a quantity's value when it is 0
                "value": None if quantity is None else _number(quantity.get("value", 0.0)),
                "unit_id": uid,
                "unit_label": ulabel,
                **_time("time_observed", m.get("timeObserved")),
                **where,
                "source_column": f"measurements[{i}]",
            }
        )
    actions = [dict(a) for a in doc.get("medicalActions") or [] if isinstance(a, dict)]
    out.update(action_rows(pid, actions, where))
    return out


def parse_errors(text: str) -> str | None:
    """The protobuf parser's complaint about a Phenopacket v2 document, or None."""
    from google.protobuf import json_format

    try:
        parse_text(text)
    except json_format.ParseError as exc:
        return str(exc)
    return None


@register
class PhenopacketProfile(Profile):
    name = "phenopacket"
    description = "Phenopacket v2 JSON (a file, a directory of files, or JSON Lines)"
    raw_suite = None

    def map_batch(self, batch: SourceBatch, ctx: MappingContext) -> MappedBatch:
        texts = batch.table.column("document").to_pylist()
        names = (
            batch.table.column("document_file").to_pylist()
            if "document_file" in batch.table.column_names
            else [None] * len(texts)
        )
        rows = batch.rows.to_pylist()
        docs: list[dict[str, Any]] = []
        sources: list[tuple[str, int | None]] = []
        collected: dict[str, list[dict[str, Any]]] = {}
        for text, name, row in zip(texts, names, rows, strict=True):
            file = f"{batch.file}/{name}" if name else batch.file
            where = {"source_file": file, "source_sheet": None, "source_row": row}
            loc = {"file": file, "row": row}
            problem = parse_errors(text)
            if problem is not None:
                ctx.findings.add(
                    "error",
                    "schema",
                    f"not a valid Phenopacket v2 document: {problem}",
                    VALIDATOR,
                    hint="fix the field named, or re-export the phenopacket",
                    **loc,
                )
                continue
            doc = orjson.loads(text)
            # jsonschema's messages only for a document whose canonical form fails too
            broken: list[SchemaError] = []
            if not conforms(doc):
                canonical = canonical_form(doc)
                if canonical is not None and conforms(canonical):
                    # proto3 JSON spellings the JSON Schema refuses (enum numbers, numbers as
                    # strings): the same Phenopacket, published in its canonical spelling
                    ctx.findings.add(
                        "info",
                        "canonical-spelling",
                        "published in protobuf's canonical JSON spelling (enum names, numbers "
                        "as numbers), which the Phenopacket v2 JSON Schema requires",
                        VALIDATOR,
                        hint="nothing to do; the submitted file is kept unchanged with the inputs",
                        phenopacket_id=doc.get("id"),
                        **loc,
                    )
                    doc = canonical
                else:
                    broken = schema_errors(doc)
            for error in broken:
                ctx.findings.add(
                    "error",
                    "schema",
                    f"{error.path or 'the document'}: {error.message} (Phenopacket v2 JSON Schema)",
                    VALIDATOR,
                    hint="fix the field named; see the Phenopacket v2 schema",
                    path=error.path or None,
                    phenopacket_id=doc.get("id"),
                    **loc,
                )
            if broken:
                continue
            docs.append(doc)
            sources.append((file, row))
            for i, m in enumerate(doc.get("measurements") or []):
                if isinstance(m, dict) and qualitative(m):
                    ctx.findings.add(
                        "info",
                        "qualitative-measurement",
                        "a measurement with an ontology class or complex value is published "
                        "in the phenopacket but not in the measurements table",
                        VALIDATOR,
                        hint="nothing to do: the measurements table holds quantities only",
                        path=f"measurements[{i}].value",
                        phenopacket_id=doc.get("id"),
                        **loc,
                    )
            for table, new in flatten(doc, where).items():
                collected.setdefault(table, []).extend(new)
        tables = {name: pa.Table.from_pylist(rows_) for name, rows_ in collected.items() if rows_}
        return MappedBatch.of(docs, sources, **tables)
