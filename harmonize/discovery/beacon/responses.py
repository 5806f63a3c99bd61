"""The Beacon's response envelopes: meta, summaries, result sets and errors.

Shapes follow ``framework/json/responses`` of Beacon v2.1.1; the tests validate every one.
"""

from __future__ import annotations

from typing import Any

from harmonize.discovery.beacon.config import API_VERSION, BeaconSettings
from harmonize.discovery.beacon.request import Query

SCHEMAS = {
    "individuals": ("individual", "beacon-individual-v2.0.0"),
    "g_variants": ("genomicVariation", "beacon-g_variant-v2.0.0"),
    "datasets": ("dataset", "beacon-dataset-v2.0.0"),
}


def returned_schemas(entry: str) -> list[dict[str, str]]:
    entity, schema = SCHEMAS[entry]
    return [{"entityType": entity, "schema": schema}]


def informational_meta(settings: BeaconSettings, entry: str | None = None) -> dict[str, Any]:
    return {
        "beaconId": settings.beacon_id,
        "apiVersion": API_VERSION,
        "returnedSchemas": returned_schemas(entry) if entry else [],
    }


def meta(
    settings: BeaconSettings, query: Query | None, returned: str, entry: str
) -> dict[str, Any]:
    """``beaconResponseMeta``: what was asked, as understood, and what is returned."""
    summary: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "requestedSchemas": [],
        "pagination": {"skip": query.skip if query else 0, "limit": query.limit if query else 0},
        "requestedGranularity": query.granularity if query else "boolean",
    }
    if query is not None:
        if query.filters:
            summary["filters"] = [f.id for f in query.filters]
        summary["includeResultsetResponses"] = query.include
        # requestParameters values are objects (framework/json/requests/requestParameters.json)
        parameters: dict[str, Any] = (
            {"genomicVariation": dict(query.variant)} if query.variant else {}
        )
        if query.datasets is not None:
            parameters["datasets"] = {"datasetIds": query.datasets}
        if parameters:
            summary["requestParameters"] = parameters
    return {
        "beaconId": settings.beacon_id,
        "apiVersion": API_VERSION,
        "returnedSchemas": returned_schemas(entry),
        "returnedGranularity": returned,
        "receivedRequestSummary": summary,
    }


def error(
    settings: BeaconSettings, status: int, message: str, entry: str = "individuals"
) -> dict[str, Any]:
    """``beaconErrorResponse``: the code and a message that names what was wrong."""
    return {
        "meta": meta(settings, None, "boolean", entry),
        "error": {"errorCode": status, "errorMessage": message},
    }
