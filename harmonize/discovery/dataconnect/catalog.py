"""The tables Data Connect serves, their JSON Schemas, and rows as JSON.

Each published table is served twice: ``individuals`` holds the rows of every dataset the
caller may read, ``<dataset>.individuals`` those of one dataset. A table's ``data_model``
is a JSON Schema (draft 07) derived from the table format's Arrow schema, with the JSON
types the Data Connect specification gives each SQL type: 64-bit integers and decimals are
strings (JSON numbers lose their precision), dates and times ISO 8601 strings.

>>> import pyarrow as pa
>>> json_type(pa.int64()), json_type(pa.list_(pa.string()))["items"]
({'type': ['string', 'null']}, {'type': ['string', 'null']})
>>> to_json(pa.int64(), 12345678901234567), to_json(pa.float64(), 1.5)
('12345678901234567', 1.5)
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import math
from typing import Any

import pyarrow as pa

from harmonize.warehouse import TABLES
from harmonize.warehouse.delta import schema

SCHEMA_URI = "http://json-schema.org/draft-07/schema#"
DESCRIPTIONS = {
    "individuals": "One row per published individual (Phenopacket subject)",
    "phenotypic_features": "Observed or excluded phenotypic features (HPO terms)",
    "diseases": "Diagnosed or excluded diseases (OMIM, ORPHA, MONDO terms)",
    "variants": "Genomic interpretations: genes, HGVS expressions, allelic states",
    "measurements": "Measurements: assay, value, unit and when observed",
    "procedures": "Procedures (medicalActions): code, body site and when performed",
    "treatments": "Treatments (medicalActions): agent, route of administration, drug type",
}


def _nullable(kind: str | list[str]) -> dict[str, Any]:
    kinds = [kind] if isinstance(kind, str) else kind
    return {"type": [*kinds, "null"]}


def json_type(arrow: pa.DataType) -> dict[str, Any]:
    """The JSON Schema of a value of ``arrow`` type (always nullable)."""
    if pa.types.is_boolean(arrow):
        return _nullable("boolean")
    if pa.types.is_integer(arrow) and arrow.bit_width <= 32:
        return _nullable("integer")
    if pa.types.is_integer(arrow) or pa.types.is_decimal(arrow):
        return _nullable("string")
    if pa.types.is_floating(arrow):
        return _nullable("number")
    if pa.types.is_timestamp(arrow):
        return {**_nullable("string"), "format": "date-time"}
    if pa.types.is_date(arrow):
        return {**_nullable("string"), "format": "date"}
    if (
        pa.types.is_list(arrow)
        or pa.types.is_large_list(arrow)
        or pa.types.is_fixed_size_list(arrow)
    ):
        return {**_nullable("array"), "items": json_type(arrow.value_type)}
    if pa.types.is_struct(arrow):
        fields = {
            arrow.field(i).name: json_type(arrow.field(i).type) for i in range(arrow.num_fields)
        }
        return {**_nullable("object"), "properties": fields}
    if pa.types.is_map(arrow):
        return {**_nullable("object"), "additionalProperties": json_type(arrow.item_type)}
    return _nullable("string")  # strings, binary (base64), times, intervals, anything else


def data_model(arrow: pa.Schema, *, title: str | None = None) -> dict[str, Any]:
    """A JSON Schema for rows of ``arrow``."""
    model: dict[str, Any] = {
        "$schema": SCHEMA_URI,
        "type": "object",
        "properties": {f.name: json_type(f.type) for f in arrow},
    }
    if title is not None:
        model["title"] = title
    return model


def to_json(arrow: pa.DataType, value: Any) -> Any:
    """A Python value of ``arrow`` type as the JSON value its data model promises."""
    if value is None:
        return None
    if (
        pa.types.is_list(arrow)
        or pa.types.is_large_list(arrow)
        or pa.types.is_fixed_size_list(arrow)
    ):
        return [to_json(arrow.value_type, v) for v in value]
    if pa.types.is_struct(arrow):
        types = {arrow.field(i).name: arrow.field(i).type for i in range(arrow.num_fields)}
        return {k: to_json(types[k], v) for k, v in value.items()}
    if pa.types.is_map(arrow):
        return {str(k): to_json(arrow.item_type, v) for k, v in value}
    if pa.types.is_boolean(arrow):
        return bool(value)
    if pa.types.is_integer(arrow):
        return int(value) if arrow.bit_width <= 32 else str(value)
    if pa.types.is_floating(arrow):
        number = float(value)
        return number if math.isfinite(number) else str(number)  # JSON has no NaN, Infinity
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return _duration(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return str(value)


def _duration(value: dt.timedelta) -> str:
    seconds = value.total_seconds()
    sign = "-" if seconds < 0 else ""
    days, rest = divmod(abs(seconds), 86_400)
    return f"{sign}P{int(days)}DT{rest:g}S"


def rows(table: pa.Table) -> list[dict[str, Any]]:
    """The rows of ``table`` as JSON objects, typed as :func:`data_model` says."""
    types = {f.name: f.type for f in table.schema}
    return [{k: to_json(types[k], v) for k, v in row.items()} for row in table.to_pylist()]


def table_names(datasets: tuple[str, ...]) -> list[str]:
    """The tables a caller who may read ``datasets`` sees, in listing order."""
    return [*TABLES, *(f"{d}.{t}" for d in datasets for t in TABLES)]


def split(name: str) -> tuple[str | None, str] | None:
    """``(dataset, table)`` of a served table name, or None for a name that is no table."""
    if name in TABLES:
        return None, name
    dataset, _, table = name.rpartition(".")
    if dataset and table in TABLES:
        return dataset, table
    return None


def describe(name: str) -> dict[str, Any]:
    """A Data Connect ``Table`` for a served table name (see :func:`split`)."""
    parts = split(name)
    assert parts is not None
    dataset, table = parts
    where = f" of dataset {dataset}" if dataset else " of every dataset you may read"
    return {
        "name": name,
        "description": DESCRIPTIONS[table] + where,
        "data_model": data_model(schema(table), title=name),
    }
