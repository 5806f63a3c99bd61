"""The official Phenopacket v2 JSON Schema, as the reference validator applies it.

The schema files in ``schemas/phenopacket-v2/`` are phenopacket-tools' copy of the v2
schema with the VRSATILE schemas it refers to (draft 2019-09, BSD-3-Clause; see
``schemas/phenopacket-v2/PROVENANCE.txt``).
Their ``$ref`` s use ``classpath:`` URIs, resolved here to the files beside them.

proto3 JSON leaves default values out (an ``UNKNOWN_PROGRESS`` status, a ``0`` quantity),
while the schema requires some of those fields. A required field that protobuf reads as
present with its default value is therefore not missing.

>>> hp = {"id": "hp", "name": "HPO", "url": "http://purl.obolibrary.org/obo/hp.owl",
...       "version": "2025-01-16", "namespacePrefix": "HP",
...       "iriPrefix": "http://purl.obolibrary.org/obo/HP_"}
>>> doc = {"id": "p1", "metaData": {"created": "2024-01-01T00:00:00Z", "createdBy": "x",
...        "phenopacketSchemaVersion": "2.0.2", "resources": [hp]}}
>>> schema_errors(doc)
[]
>>> doc["interpretations"] = [{"id": "i1", "progressStatus": "SOLVED", "diagnosis": {}}]
>>> [(e.path, e.message) for e in schema_errors(doc)]
[('interpretations[0].diagnosis', "'disease' is a required property")]
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas" / "phenopacket-v2"
_CLASSPATH = "classpath:/org/phenopackets/phenopackettools/validator/jsonschema/"
_OUTSIDE_V2 = ("vrsatile.json", "vrs-variation-adapter.json")  # one level up on the classpath


@dataclass(frozen=True)
class SchemaError:
    """One schema violation: a JSON path into the document and the schema's complaint."""

    path: str
    message: str


@functools.cache
def _validator() -> Any:
    from jsonschema import Draft201909Validator
    from referencing import Registry, Resource

    resources = []
    for path in sorted(SCHEMA_DIR.glob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resource = Resource.from_contents(contents)
        folder = "" if path.name in _OUTSIDE_V2 else "v2/"
        resources.append((_CLASSPATH + folder + path.name, resource))
        resources.append((contents["$id"], resource))
    registry: Registry[Any] = Registry().with_resources(resources)
    root = json.loads((SCHEMA_DIR / "phenopacket-schema.json").read_text(encoding="utf-8"))
    return Draft201909Validator(root, registry=registry)


def with_defaults(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The document as protobuf reads it, default values written out; None if it does not parse."""
    from google.protobuf import json_format
    from phenopackets.schema.v2 import Phenopacket

    try:
        message = json_format.ParseDict(doc, Phenopacket())
    except json_format.ParseError:
        return None
    filled: dict[str, Any] = json_format.MessageToDict(
        message, always_print_fields_with_no_presence=True
    )
    return filled


def canonical_form(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The document in protobuf's canonical JSON spelling (defaults left out); None if unreadable."""
    from google.protobuf import json_format
    from phenopackets.schema.v2 import Phenopacket

    try:
        message = json_format.ParseDict(doc, Phenopacket())
    except json_format.ParseError:
        return None
    canonical: dict[str, Any] = json_format.MessageToDict(message)
    return canonical


def _path(parts: Any) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _at(doc: Any, path: Any) -> Any:
    for part in path:
        try:
            doc = doc[part]
        except (KeyError, IndexError, TypeError):
            return None
    return doc


def schema_errors(doc: dict[str, Any]) -> list[SchemaError]:
    """Every way ``doc`` breaks the official v2 JSON Schema (empty when it conforms).

    A required field that proto3 JSON leaves out because it holds its default value (an
    enum's first value, ``0``, ``""``) is present: protobuf reads the document with it.
    """
    filled: dict[str, Any] | None = None
    out = []
    for error in _validator().iter_errors(doc):
        if error.validator == "required":
            filled = filled or with_defaults(doc)
        if error.validator == "required" and filled is not None:
            missing = [p for p in error.validator_value if p not in error.instance]
            here = _at(filled, error.absolute_path)
            if isinstance(here, dict) and all(p in here for p in missing):
                continue
        out.append(error)
    out.sort(key=lambda e: [str(p) for p in e.absolute_path])
    return [SchemaError(_path(e.absolute_path), e.message) for e in out]
