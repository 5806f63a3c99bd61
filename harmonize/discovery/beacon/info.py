"""The informational endpoints: ``/``, ``/info``, ``/service-info``, ``/configuration``,
``/map``, ``/entry_types`` and ``/filtering_terms``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harmonize import __version__
from harmonize.discovery.beacon.config import API_VERSION, PREFIX, BeaconSettings
from harmonize.discovery.beacon.definitions import ALPHANUMERIC, ONTOLOGY
from harmonize.discovery.beacon.responses import informational_meta

if TYPE_CHECKING:
    from harmonize.discovery.beacon.engine import Beacon

SCHEMA = "https://json-schema.org/draft/2020-12/schema"
MODEL = "https://github.com/ga4gh-beacon/beacon-v2/tree/v2.1.1/models/json/beacon-v2-default-model"

ENTRY_TYPES = {
    "individual": (
        "Individual",
        "individuals",
        "beacon-individual-v2.0.0",
        "NCIT:C25190",
        "Person",
    ),
    "genomicVariation": (
        "Genomic variation",
        "g_variants",
        "beacon-g_variant-v2.0.0",
        "ENSGLOSSARY:0000092",
        "Variant",
    ),
    "dataset": ("Dataset", "datasets", "beacon-dataset-v2.0.0", "NCIT:C47824", "Data set"),
}


def info(settings: BeaconSettings) -> dict[str, Any]:
    return {
        "meta": informational_meta(settings),
        "response": {
            "id": settings.beacon_id,
            "name": settings.name,
            "apiVersion": API_VERSION,
            "environment": settings.environment,
            "description": settings.description,
            "version": __version__,
            "organization": {"id": settings.organization_id, "name": settings.organization_name},
        },
    }


def service_info(settings: BeaconSettings) -> dict[str, Any]:
    return {
        "id": settings.beacon_id,
        "name": settings.name,
        "type": {"group": "org.ga4gh", "artifact": "beacon", "version": API_VERSION},
        "description": settings.description,
        "organization": {"name": settings.organization_name, "url": "https://example.org"},
        "version": __version__,
        "environment": settings.environment,
    }


def _entry_types() -> dict[str, Any]:
    return {
        key: {
            "id": key,
            "name": name,
            "partOfSpecification": "Beacon v2.1.1",
            "defaultSchema": {
                "id": schema,
                "name": f"Default schema for {name.lower()}",
                "referenceToSchemaDefinition": f"{MODEL}/{path}/defaultSchema.json",
                "schemaVersion": "v2.0.0",
            },
            "ontologyTermForThisType": {"id": term, "label": label},
            "nonFilteredQueriesAllowed": True,
        }
        for key, (name, path, schema, term, label) in ENTRY_TYPES.items()
    }


def configuration(settings: BeaconSettings) -> dict[str, Any]:
    return {
        "meta": informational_meta(settings),
        "response": {
            "$schema": SCHEMA,
            "maturityAttributes": {
                "productionStatus": settings.environment.upper()
                if settings.environment in ("dev", "test", "prod")
                else "DEV"
            },
            "securityAttributes": {
                "defaultGranularity": "boolean",
                "securityLevels": ["PUBLIC", "CONTROLLED"],
            },
            "entryTypes": _entry_types(),
        },
    }


def entry_types(settings: BeaconSettings) -> dict[str, Any]:
    return {"meta": informational_meta(settings), "response": {"entryTypes": _entry_types()}}


def beacon_map(settings: BeaconSettings, base: str) -> dict[str, Any]:
    root = base.rstrip("/") + PREFIX
    return {
        "meta": informational_meta(settings),
        "response": {
            "$schema": SCHEMA,
            "endpointSets": {
                "individual": {
                    "entryType": "individual",
                    "rootUrl": f"{root}/individuals",
                    "singleEntryUrl": f"{root}/individuals/{{id}}",
                    "endpoints": {
                        "genomicVariation": {
                            "returnedEntryType": "genomicVariation",
                            "url": f"{root}/individuals/{{id}}/g_variants",
                        }
                    },
                },
                "genomicVariation": {
                    "entryType": "genomicVariation",
                    "rootUrl": f"{root}/g_variants",
                },
                "dataset": {
                    "entryType": "dataset",
                    "rootUrl": f"{root}/datasets",
                    "singleEntryUrl": f"{root}/datasets/{{id}}",
                    "endpoints": {
                        "individual": {
                            "returnedEntryType": "individual",
                            "url": f"{root}/datasets/{{id}}/individuals",
                        }
                    },
                },
            },
        },
    }


def filtering_terms(beacon: Beacon) -> dict[str, Any]:
    """The terms that occur in the current published data, and the alphanumeric fields."""
    snapshot = beacon.snapshot()
    cached: dict[str, Any] | None = snapshot.extras.get("beacon.filtering_terms")
    if cached is None:
        cached = snapshot.extras["beacon.filtering_terms"] = _filtering_terms(beacon, snapshot)
    return cached


def _filtering_terms(beacon: Beacon, snapshot: Any) -> dict[str, Any]:
    terms: list[dict[str, Any]] = []
    prefixes: set[str] = set()
    cursor = snapshot.cursor()
    for prefix, spec in ONTOLOGY.items():
        if spec.values:
            present = {
                row[0]
                for row in cursor.execute(
                    f'SELECT DISTINCT "{spec.column}" FROM "{spec.table}"'
                ).fetchall()
            }
            for term, value in spec.values.items():
                if value in present:
                    terms.append(
                        {
                            "type": "ontologyTerm",
                            "id": term,
                            "label": spec.labels[term],
                            "scopes": list(spec.scopes),
                        }
                    )
                    prefixes.add(prefix)
            continue
        label = f'any_value("{spec.label_column}")' if spec.label_column else "NULL"
        rows = cursor.execute(
            f'SELECT "{spec.column}", {label} FROM "{spec.table}" '
            f'WHERE "{spec.column}" LIKE ? GROUP BY 1 ORDER BY 1',
            [f"{prefix}:%"],
        ).fetchall()
        for term, name in rows:
            entry = {"type": "ontologyTerm", "id": term, "scopes": list(spec.scopes)}
            if name:
                entry["label"] = name
            terms.append(entry)
            prefixes.add(prefix)
    for field_id, field in ALPHANUMERIC.items():
        terms.append(
            {
                "type": "alphanumeric",
                "id": field_id,
                "label": field.label,
                "scopes": list(field.scopes),
            }
        )
    resources = []
    for prefix in sorted(prefixes):
        found = beacon.ontologies.resource(prefix)
        resources.append(
            {
                "id": found["id"],
                "name": found["name"],
                "url": found["url"],
                "version": found["version"],
                "nameSpacePrefix": prefix,
                "iriPrefix": found["iriPrefix"],
            }
        )
    return {
        "meta": informational_meta(beacon.settings),
        "response": {"filteringTerms": terms, "resources": resources},
    }
