"""A Beacon query, read alike from GET query parameters and a POST request body.

>>> q = from_get("individuals", {"filters": "HP:0001250", "requestedGranularity": "count"})
>>> q.granularity, [f.id for f in q.filters], q.limit
('count', ['HP:0001250'], 10)
>>> body = {"query": {"filters": [{"id": "HP:0001250"}], "pagination": {"skip": 5, "limit": 2},
...                   "requestedGranularity": "record"}}
>>> p = from_post("individuals", body)
>>> p.granularity, p.skip, p.limit
('record', 5, 2)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from harmonize.discovery.beacon.errors import BeaconRequestError
from harmonize.discovery.beacon.filters import Filter, parse_get, parse_post

Entry = Literal["individuals", "g_variants", "datasets"]
Include = Literal["HIT", "MISS", "ALL", "NONE"]
GRANULARITIES = ("boolean", "count", "record")
INCLUDES = ("HIT", "MISS", "ALL", "NONE")
VARIANT_PARAMETERS = (
    "geneId",
    "genomicAlleleShortForm",
    "referenceName",
    "start",
    "end",
    "referenceBases",
    "alternateBases",
    "assemblyId",
)


@dataclass
class Query:
    """What is asked: the entry type, filters, granularity, page and scoping parameters."""

    entry: Entry
    filters: list[Filter] = field(default_factory=list)
    granularity: str = "boolean"
    include: str = "HIT"
    skip: int = 0
    limit: int = 10
    datasets: list[str] | None = None  # the datasets the caller asks to search
    individual_id: str | None = None  # /individuals/{id}, /individuals/{id}/g_variants
    dataset_id: str | None = None  # /datasets/{id}, /datasets/{id}/individuals
    variant: dict[str, str] = field(default_factory=dict)  # g_variants request parameters
    data_use: str | None = None  # the caller's purpose: a DUO data use permission
    data_use_modifiers: tuple[str, ...] = ()  # DUO modifiers the caller declares to meet
    received: dict[str, Any] = field(default_factory=dict)  # as given, for the summary


def _integer(name: str, value: Any, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise BeaconRequestError(f"{name} must be a non-negative integer, not {value!r}") from None
    if number < 0 or isinstance(value, bool):
        raise BeaconRequestError(f"{name} must be a non-negative integer, not {value!r}")
    return number


def _choice(name: str, value: Any, allowed: tuple[str, ...], default: str) -> str:
    if value is None or value == "":
        return default
    if value not in allowed:
        raise BeaconRequestError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return str(value)


def _names(value: Any) -> list[str] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, dict):  # {"datasetIds": [...]}
        return _names(value.get("datasetIds"))
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise BeaconRequestError(f"datasets must be a list of dataset ids, not {value!r}")


def _variant(params: Mapping[str, Any]) -> dict[str, str]:
    found = {}
    for name in VARIANT_PARAMETERS:
        value = params.get(name)
        if value is None or value == "":
            continue
        if isinstance(value, list):  # start/end given as lists in a POST body
            value = value[0] if value else None
            if value is None:
                continue
        found[name] = str(value)
    for name in ("start", "end"):
        if name in found:
            _integer(name, found[name].split(",")[0], 0)
            found[name] = found[name].split(",")[0]
    return found


def _data_use(params: Mapping[str, Any]) -> tuple[str | None, tuple[str, ...]]:
    """``dataUse`` (one DUO permission) and ``dataUseModifiers`` (a list or comma-separated)."""
    use = params.get("dataUse")
    if use is not None and not isinstance(use, str):
        raise BeaconRequestError(f"dataUse must be one DUO code such as DUO:0000006, not {use!r}")
    modifiers = params.get("dataUseModifiers") or []
    if isinstance(modifiers, str):
        modifiers = [m.strip() for m in modifiers.split(",") if m.strip()]
    if not isinstance(modifiers, list) or not all(isinstance(m, str) for m in modifiers):
        raise BeaconRequestError(f"dataUseModifiers must be a list of DUO codes, not {modifiers!r}")
    return (use.strip() or None) if use else None, tuple(modifiers)


def from_get(entry: Entry, params: Mapping[str, Any]) -> Query:
    """A query from GET query parameters."""
    return Query(
        entry=entry,
        filters=parse_get(params.get("filters")),
        granularity=_choice(
            "requestedGranularity", params.get("requestedGranularity"), GRANULARITIES, "boolean"
        ),
        include=_choice(
            "includeResultsetResponses", params.get("includeResultsetResponses"), INCLUDES, "HIT"
        ),
        skip=_integer("skip", params.get("skip"), 0),
        limit=_integer("limit", params.get("limit"), 10),
        datasets=_names(params.get("datasets")),
        variant=_variant(params),
        data_use=_data_use(params)[0],
        data_use_modifiers=_data_use(params)[1],
        received={k: v for k, v in params.items()},
    )


def from_post(entry: Entry, body: Any) -> Query:
    """A query from a POST request body (``beaconRequestBody``); an empty body asks nothing."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise BeaconRequestError("the request body must be a JSON object (beaconRequestBody)")
    query = body.get("query") or {}
    if not isinstance(query, dict):
        raise BeaconRequestError("query must be an object")
    pagination = query.get("pagination") or {}
    if not isinstance(pagination, dict):
        raise BeaconRequestError("query.pagination must be an object with skip and limit")
    parameters = query.get("requestParameters") or {}
    if not isinstance(parameters, dict):
        raise BeaconRequestError("query.requestParameters must be an object")
    datasets = parameters.get("datasets", body.get("datasets", query.get("datasets")))
    return Query(
        entry=entry,
        filters=parse_post(query.get("filters")),
        granularity=_choice(
            "requestedGranularity", query.get("requestedGranularity"), GRANULARITIES, "boolean"
        ),
        include=_choice(
            "includeResultsetResponses", query.get("includeResultsetResponses"), INCLUDES, "HIT"
        ),
        skip=_integer("skip", pagination.get("skip"), 0),
        limit=_integer("limit", pagination.get("limit"), 10),
        datasets=_names(datasets),
        variant=_variant(parameters),
        data_use=_data_use(parameters)[0],
        data_use_modifiers=_data_use(parameters)[1],
        received=query,
    )
