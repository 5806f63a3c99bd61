"""The official Phenopacket v2 JSON Schema, as the reference validator applies it.

The schema files in ``schemas/phenopacket-v2/`` are phenopacket-tools' copy of the v2
schema with the VRSATILE schemas it refers to (draft 2019-09, BSD-3-Clause; see
``schemas/phenopacket-v2/PROVENANCE.txt``).
Their ``$ref`` s use ``classpath:`` URIs, resolved here to the files beside them.

Two validators read the same files. jsonschema_rs (compiled) looks first; when all it
finds are required fields that protobuf fills in (below), the document conforms. Anything
else goes to jsonschema, whose errors are the messages reported. The protobuf message of a
document is parsed once and shared by the checks that read it (:func:`message`).

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
from collections import OrderedDict
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
def _schemas() -> dict[str, Any]:
    """Every schema file's contents by the URIs that name it (``classpath:`` and ``$id``)."""
    out = {}
    for path in sorted(SCHEMA_DIR.glob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        folder = "" if path.name in _OUTSIDE_V2 else "v2/"
        out[_CLASSPATH + folder + path.name] = contents
        out[contents["$id"]] = contents
    return out


def _root() -> Any:
    return json.loads((SCHEMA_DIR / "phenopacket-schema.json").read_text(encoding="utf-8"))


@functools.cache
def _validator() -> Any:
    from jsonschema import Draft201909Validator
    from referencing import Registry, Resource

    resources = [(uri, Resource.from_contents(c)) for uri, c in _schemas().items()]
    registry: Registry[Any] = Registry().with_resources(resources)
    return Draft201909Validator(_root(), registry=registry)


@functools.cache
def _fast_validator() -> Any:
    import jsonschema_rs

    # formats are annotations in draft 2019-09, as jsonschema applies it above
    return jsonschema_rs.Draft201909Validator(
        _root(), retriever=_schemas().__getitem__, validate_formats=False
    )


_MESSAGES: OrderedDict[bytes, Any] = OrderedDict()
_MESSAGES_KEPT = 1024  # a validate batch's documents (harmonize.quality.validate)


def _remember(key: bytes, parsed: Any) -> Any:
    _MESSAGES[key] = parsed
    if len(_MESSAGES) > _MESSAGES_KEPT:
        _MESSAGES.popitem(last=False)
    return parsed


def message(doc: dict[str, Any]) -> Any:
    """The ``Phenopacket`` protobuf message of a document, or None if protobuf refuses it.

    Parsed once for the last documents seen (by :func:`parse_text` too): read-only."""
    import orjson
    from google.protobuf import json_format
    from phenopackets.schema.v2 import Phenopacket

    key = orjson.dumps(doc)
    if key in _MESSAGES:
        _MESSAGES.move_to_end(key)
        return _MESSAGES[key]
    try:
        return _remember(key, json_format.ParseDict(doc, Phenopacket()))
    except json_format.ParseError:
        return _remember(key, None)


def parse_text(text: str) -> Any:
    """``json_format.Parse`` of compact JSON text as ``orjson.dumps`` writes it (raises its
    ``ParseError``); the message is what :func:`message` then returns for the parsed text."""
    from google.protobuf import json_format
    from phenopackets.schema.v2 import Phenopacket

    return _remember(text.encode(), json_format.Parse(text, Phenopacket()))


def with_defaults(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The document as protobuf reads it, default values written out; None if it does not parse."""
    from google.protobuf import json_format

    parsed = message(doc)
    if parsed is None:
        return None
    filled: dict[str, Any] = json_format.MessageToDict(
        parsed, always_print_fields_with_no_presence=True
    )
    return filled


def canonical_form(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The document in protobuf's canonical JSON spelling (defaults left out); None if unreadable."""
    import orjson
    from google.protobuf import json_format

    parsed = message(doc)
    if parsed is None:
        return None
    canonical: dict[str, Any] = json_format.MessageToDict(parsed)
    # protobuf reads its canonical spelling back as the same message: not parsed again
    _remember(orjson.dumps(canonical), parsed)
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


def conforms(doc: dict[str, Any]) -> bool:
    """Whether ``doc`` conforms: ``schema_errors(doc) == []``, on the compiled validator's
    word alone (tests/quality/test_schema_fast.py holds the two to the same verdicts)."""
    return _only_defaults_missing(doc)


def _only_defaults_missing(doc: dict[str, Any]) -> bool:
    """Whether the compiled validator finds nothing wrong with ``doc`` but required fields
    that protobuf reads as present with their default values (see :func:`schema_errors`)."""
    import jsonschema_rs

    parsed: Any = False  # not parsed yet
    filled: dict[str, Any] | None = None
    for error in _fast_validator().iter_errors(doc):
        if not isinstance(error.kind, jsonschema_rs.ValidationErrorKind.Required):
            return False
        parsed = message(doc) if parsed is False else parsed
        if parsed is None:
            return False
        present = filled_in(parsed, error.instance_path, error.kind.property)
        if present is None:  # a path the descriptor walk does not follow: print it all
            filled = filled if filled is not None else with_defaults(doc)
            here = _at(filled, error.instance_path) if filled is not None else None
            present = isinstance(here, dict) and error.kind.property in here
        if not present:
            return False
    return True


def filled_in(parsed: Any, path: Any, name: str) -> bool | None:
    """Whether :func:`with_defaults` would hold field ``name`` at ``path``, read from the
    message's descriptors instead of printing the whole message; None where it cannot tell.

    Printed with ``always_print_fields_with_no_presence``, a message holds every repeated and
    map field and every field without presence (a proto3 scalar or enum); a field with
    presence (a message, a oneof member, ``optional``) only when it is set.
    """
    from google.protobuf.message import Message

    here: Any = parsed
    for part in path:
        if isinstance(part, int):
            if isinstance(here, Message | str | bytes):
                return None
            try:
                here = here[part]
            except (IndexError, TypeError, KeyError):
                return None
            continue
        field = _json_fields(here)
        if field is None or part not in field:
            return None
        described = field[part]
        if described.message_type is not None and described.message_type.GetOptions().map_entry:
            return None  # a map: printed as a JSON object of its entries
        if described.label != described.LABEL_REPEATED and not here.HasField(described.name):
            return None  # an unset message: not printed at all
        here = getattr(here, described.name)
    field = _json_fields(here)
    if field is None:
        return None
    described = field.get(name)
    if described is None:
        return False
    if described.label == described.LABEL_REPEATED or not described.has_presence:
        return True
    return bool(here.HasField(described.name))


def _json_fields(here: Any) -> dict[str, Any] | None:
    """A message's fields by their JSON names; None for anything printed otherwise (a
    well-known type such as Timestamp, Struct or Any, a list, a scalar)."""
    from google.protobuf.message import Message

    if not isinstance(here, Message):
        return None
    descriptor = here.DESCRIPTOR
    if descriptor.full_name.startswith("google.protobuf."):
        return None
    return _fields_by_json_name(descriptor)


@functools.cache
def _fields_by_json_name(descriptor: Any) -> dict[str, Any]:
    return {f.json_name: f for f in descriptor.fields}


def schema_errors(doc: dict[str, Any]) -> list[SchemaError]:
    """Every way ``doc`` breaks the official v2 JSON Schema (empty when it conforms).

    A required field that proto3 JSON leaves out because it holds its default value (an
    enum's first value, ``0``, ``""``) is present: protobuf reads the document with it.
    """
    if _only_defaults_missing(doc):
        return []
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
