"""Beacon records built from table rows: individuals, genomic variants, datasets.

Individuals follow the default model's ``individuals/defaultSchema.json`` (id, sex as an
NCIT term, phenotypic features, diseases); genomic variants carry the submitted HGVS and
gene; datasets carry ``dataUseConditions`` with the DUO codes of their consent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harmonize.discovery.beacon.definitions import ONTOLOGY
from harmonize.discovery.beacon.request import Query
from harmonize.discovery.beacon.responses import meta
from harmonize.discovery.tables import Snapshot

if TYPE_CHECKING:
    from harmonize.discovery.beacon.engine import Beacon

_SEX = ONTOLOGY["NCIT"]
SEX_TERMS = {value: term for term, value in _SEX.values.items()}


def _sex(value: str | None) -> dict[str, str]:
    term = SEX_TERMS.get(value or "", "NCIT:C17998")
    return {"id": term, "label": _SEX.labels[term]}


def _term(term_id: str, label: str | None) -> dict[str, str]:
    return {"id": term_id, "label": label} if label else {"id": term_id}


def individual_records(
    cursor: Any, rows: list[tuple[Any, ...]]
) -> list[tuple[str, dict[str, Any]]]:
    """(dataset, record) for each page row, features and diseases looked up for the page."""
    keys = [f"{r[1]}/{r[2]}" for r in rows]
    features: dict[str, list[dict[str, Any]]] = {}
    diseases: dict[str, list[dict[str, Any]]] = {}
    if keys:
        for key, term, label, excluded in cursor.execute(
            "SELECT submission_id || '/' || phenopacket_id AS k, term_id, term_label, excluded "
            "FROM phenotypic_features WHERE k IN (SELECT unnest(?::VARCHAR[])) "
            "AND term_id IS NOT NULL ORDER BY k, term_id",
            [keys],
        ).fetchall():
            features.setdefault(key, []).append(
                {"featureType": _term(term, label), "excluded": bool(excluded)}
            )
        for key, term, label in cursor.execute(
            "SELECT submission_id || '/' || phenopacket_id AS k, term_id, term_label "
            "FROM diseases WHERE k IN (SELECT unnest(?::VARCHAR[])) AND term_id IS NOT NULL "
            "AND excluded IS NOT TRUE ORDER BY k, term_id",
            [keys],
        ).fetchall():
            diseases.setdefault(key, []).append({"diseaseCode": _term(term, label)})
    built = []
    for (dataset, submission, pid, sex, age, version), key in zip(rows, keys, strict=True):
        record: dict[str, Any] = {"id": pid, "sex": _sex(sex)}
        if features.get(key):
            record["phenotypicFeatures"] = features[key]
        if diseases.get(key):
            record["diseases"] = diseases[key]
        info: dict[str, Any] = {
            "datasetId": dataset,
            "submissionId": submission,
            "submissionVersion": version,
        }
        if age:
            info["ageAtLastEncounter"] = {"iso8601duration": age}
        record["info"] = info
        built.append((dataset, record))
    return built


def variant_records(rows: list[tuple[Any, ...]]) -> list[tuple[str, dict[str, Any]]]:
    """(dataset, record) per distinct variant of the page."""
    built = []
    for dataset, key, gene_id, gene_symbol, syntax, description, carriers in rows:
        record: dict[str, Any] = {
            "variantInternalId": key,
            "variation": {"variantType": "SNV" if syntax else "unknown"},
            "info": {"datasetId": dataset, "carriers": carriers},
        }
        if syntax == "hgvs.g":
            record["identifiers"] = {"genomicHGVSId": key}
        elif syntax:
            record["identifiers"] = {"variantAlternativeIds": [{"id": key}]}
        if description:
            record["info"]["description"] = description
        if gene_id or gene_symbol:
            record["molecularAttributes"] = {"geneIds": [gene_symbol or gene_id]}
            record["info"]["geneId"] = gene_id
        built.append((dataset, record))
    return built


def dataset_collection(beacon: Beacon, snapshot: Snapshot, query: Query) -> dict[str, Any]:
    """``/datasets`` (or one of them): a collections response, metadata only."""
    from harmonize.consent import DataUse
    from harmonize.discovery.beacon.catalog import datasets
    from harmonize.discovery.beacon.errors import BeaconRequestError

    known = datasets(snapshot)
    names = sorted(known)
    if query.dataset_id is not None:
        if query.dataset_id not in known:
            raise BeaconRequestError(f"no dataset {query.dataset_id!r}", status=404)
        names = [query.dataset_id]
    duo = DataUse.of(beacon.ontologies)
    version = duo.release or "DUO codes of Harmonize (no DUO release pinned)"
    collections = []
    for name in names[query.skip : query.skip + query.limit]:
        found = known[name]
        record: dict[str, Any] = {
            "id": name,
            "name": name,
            "info": {
                "securityLevel": found.security,
                "submissions": list(found.submissions),
                "policy": beacon.settings.policy(name).model_dump(),
            },
        }
        uses = [{**_term(code, duo.label(code)), "version": version} for code in found.duo]
        if uses:
            record["dataUseConditions"] = {"duoDataUse": uses}
        collections.append(record)
    return {
        "meta": meta(beacon.settings, query, "record", "datasets"),
        "responseSummary": {"exists": bool(names), "numTotalResults": len(names)},
        "response": {"collections": collections},
    }
