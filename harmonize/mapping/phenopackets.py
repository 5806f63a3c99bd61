"""Build Phenopacket v2 documents (plain dicts, proto3 JSON names) from the harmonized tables.

Dicts written with orjson are about 50x faster than protobuf's ``json_format``; the
structure follows the Phenopacket v2 schema and is checked against it in the tests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa

SCHEMA_VERSION = "2.0.2"
PUBMED = "https://pubmed.ncbi.nlm.nih.gov/"


def _cols(table: pa.Table, names: list[str]) -> list[list[Any]]:
    return [table.column(n).to_pylist() for n in names]


def _time(age: str | None, term_id: str | None, term_label: str | None) -> dict[str, Any] | None:
    if age:
        return {"age": {"iso8601duration": age}}
    if term_id:
        return {"ontologyClass": {"id": term_id, "label": term_label or ""}}
    return None


def build_documents(
    tables: dict[str, pa.Table],
    *,
    created: str,
    created_by: str,
    resource: Callable[[str], dict[str, Any] | None],
) -> list[dict[str, Any]]:
    """One Phenopacket per row of ``individuals``, in that order.

    ``resource(prefix)`` gives the MetaData Resource for a CURIE prefix (None if unknown).
    """
    ind = tables["individuals"]
    docs: dict[str, dict[str, Any]] = {}
    prefixes: dict[str, set[str]] = {}
    pid_, sid, sex, age, vital, ref, refdesc = _cols(
        ind,
        [
            "phenopacket_id",
            "subject_id",
            "sex",
            "age_at_last_encounter",
            "vital_status",
            "reference_id",
            "reference_description",
        ],
    )
    for i, pid in enumerate(pid_):
        if pid is None or pid in docs:
            continue
        subject: dict[str, Any] = {"id": sid[i] if sid[i] is not None else pid}
        if age[i]:
            subject["timeAtLastEncounter"] = {"age": {"iso8601duration": age[i]}}
        if vital[i]:
            subject["vitalStatus"] = {"status": vital[i]}
        if sex[i]:
            subject["sex"] = sex[i]
        meta: dict[str, Any] = {"created": created, "createdBy": created_by}
        if ref[i]:
            number = ref[i].split(":", 1)[-1]
            external = {"id": ref[i]}
            if ref[i].startswith("PMID:"):
                external["reference"] = PUBMED + number
            if refdesc[i]:
                external["description"] = refdesc[i]
            meta["externalReferences"] = [external]
        docs[pid] = {"id": pid, "subject": subject, "metaData": meta}
        prefixes[pid] = set()

    def add_prefix(pid: str, curie: str | None) -> None:
        if curie and ":" in curie:
            prefixes[pid].add(curie.split(":", 1)[0])

    f = tables["phenotypic_features"]
    for pid, tid, label, exc, oage, oid, olabel in zip(
        *_cols(
            f,
            [
                "phenopacket_id",
                "term_id",
                "term_label",
                "excluded",
                "onset_age",
                "onset_term_id",
                "onset_term_label",
            ],
        ),
        strict=True,
    ):
        doc = docs.get(pid)
        if doc is None or tid is None:
            continue
        feature: dict[str, Any] = {"type": {"id": tid, "label": label or ""}}
        if exc:
            feature["excluded"] = True
        onset = _time(oage, oid, olabel)
        if onset:
            feature["onset"] = onset
            add_prefix(pid, oid)
        doc.setdefault("phenotypicFeatures", []).append(feature)
        add_prefix(pid, tid)

    d = tables["diseases"]
    for pid, tid, label, exc, oage, oid, olabel in zip(
        *_cols(
            d,
            [
                "phenopacket_id",
                "term_id",
                "term_label",
                "excluded",
                "onset_age",
                "onset_term_id",
                "onset_term_label",
            ],
        ),
        strict=True,
    ):
        doc = docs.get(pid)
        if doc is None or tid is None:
            continue
        disease: dict[str, Any] = {"term": {"id": tid, "label": label or ""}}
        if exc:
            disease["excluded"] = True
        onset = _time(oage, oid, olabel)
        if onset:
            disease["onset"] = onset
            add_prefix(pid, oid)
        doc.setdefault("diseases", []).append(disease)
        add_prefix(pid, tid)

    v = tables["variants"]
    for pid, vid, did, dlabel, gid, gsym, hgvs, syntax, desc, zid, zlabel, status, progress in zip(
        *_cols(
            v,
            [
                "phenopacket_id",
                "variant_id",
                "disease_id",
                "disease_label",
                "gene_id",
                "gene_symbol",
                "hgvs",
                "hgvs_syntax",
                "description",
                "allelic_state_id",
                "allelic_state_label",
                "interpretation_status",
                "progress_status",
            ],
        ),
        strict=True,
    ):
        doc = docs.get(pid)
        if doc is None:
            continue
        descriptor: dict[str, Any] = {"id": vid or f"{pid}:variant"}
        if gid or gsym:
            descriptor["geneContext"] = {"valueId": gid or "", "symbol": gsym or ""}
            add_prefix(pid, gid)
        if hgvs:
            descriptor["expressions"] = [{"syntax": syntax or "hgvs", "value": hgvs}]
        if desc:
            descriptor["label"] = desc
        descriptor["moleculeContext"] = "genomic"
        if zid:
            descriptor["allelicState"] = {"id": zid, "label": zlabel or ""}
            add_prefix(pid, zid)
        interps = doc.setdefault("interpretations", [])
        if not interps:
            diagnosis: dict[str, Any] = {}
            if did:
                diagnosis["disease"] = {"id": did, "label": dlabel or ""}
                add_prefix(pid, did)
            interps.append(
                {
                    "id": doc["subject"]["id"],
                    "progressStatus": progress or "UNKNOWN_PROGRESS",
                    "diagnosis": diagnosis,
                }
            )
        interps[0]["diagnosis"].setdefault("genomicInterpretations", []).append(
            {
                "subjectOrBiosampleId": doc["subject"]["id"],
                "interpretationStatus": status or "UNKNOWN_STATUS",
                "variantInterpretation": {"variationDescriptor": descriptor},
            }
        )

    m = tables["measurements"]
    for pid, aid, alabel, value, uid, ulabel, when in zip(
        *_cols(
            m,
            [
                "phenopacket_id",
                "assay_id",
                "assay_label",
                "value",
                "unit_id",
                "unit_label",
                "time_observed_age",
            ],
        ),
        strict=True,
    ):
        doc = docs.get(pid)
        if doc is None or aid is None:
            continue
        measurement: dict[str, Any] = {
            "assay": {"id": aid, "label": alabel or ""},
            "value": {
                "quantity": {"unit": {"id": uid or "", "label": ulabel or ""}, "value": value}
            },
        }
        if when:
            measurement["timeObserved"] = {"age": {"iso8601duration": when}}
        doc.setdefault("measurements", []).append(measurement)
        add_prefix(pid, aid)
        add_prefix(pid, uid)

    out = []
    for pid, doc in docs.items():
        meta = doc.pop("metaData")
        resources = [r for r in (resource(p) for p in sorted(prefixes[pid])) if r is not None]
        meta["resources"] = resources
        meta["phenopacketSchemaVersion"] = SCHEMA_VERSION
        doc["metaData"] = {
            k: meta[k]
            for k in (
                "created",
                "createdBy",
                "resources",
                "phenopacketSchemaVersion",
                "externalReferences",
            )
            if k in meta
        }
        out.append(doc)
    return out
