"""The compiled first look (jsonschema_rs) changes no finding of the Phenopacket v2 JSON Schema.

``schema_errors`` lets a document through on jsonschema_rs's word only when all it finds
are required fields protobuf fills in; everything else gets jsonschema's own messages. Each
document here, valid or broken in one way, must give the same errors as jsonschema alone.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harmonize.quality import schema, validators

DATA = Path(__file__).resolve().parent.parent / "data" / "submissions" / "fbxl4-phenopackets"
DOCS = sorted((DATA / "phenopackets").glob("*.json"))


def _slow(doc: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> list[schema.SchemaError]:
    with monkeypatch.context() as m:
        m.setattr(schema, "_only_defaults_missing", lambda doc: False)
        return schema.schema_errors(doc)


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(doc: dict[str, Any]) -> None:
        here: Any = doc
        for part in path[:-1]:
            here = here[part]
        here[path[-1]] = value

    return edit


def _drop(path: list[Any]) -> Callable[[dict[str, Any]], None]:
    def edit(doc: dict[str, Any]) -> None:
        here: Any = doc
        for part in path[:-1]:
            here = here[part]
        del here[path[-1]]

    return edit


BREAKS = {
    "unchanged": lambda doc: None,
    "id a number": _set(["id"], 12),
    "unknown top-level field": _set(["colour"], "blue"),
    # protobuf reads a missing id as "": not a schema error, on either path
    "feature type without an id": _drop(["phenotypicFeatures", 0, "type", "id"]),
    "feature type a string": _set(["phenotypicFeatures", 0, "type"], "HP:0001250"),
    "sex an unknown name": _set(["subject", "sex"], "WOMAN"),
    "sex an enum number": _set(["subject", "sex"], 1),
    "resources not a list": _set(["metaData", "resources"], {"id": "hp"}),
    "no metaData.created": _drop(["metaData", "created"]),
    "unknown field in a disease": _set(["diseases", 0, "stage"], "x"),
    "excluded a string": _set(["phenotypicFeatures", 0, "excluded"], "yes"),
    "diagnosis without a disease": _drop(["interpretations", 0, "diagnosis", "disease"]),
}


@pytest.mark.parametrize("name", sorted(BREAKS))
def test_fast_path_gives_jsonschemas_errors(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert DOCS, DATA
    differing = []
    flagged = 0
    for path in DOCS:
        doc = json.loads(path.read_text())
        try:
            BREAKS[name](doc)
        except (KeyError, IndexError):
            continue  # this document has no such field to break
        fast = schema.schema_errors(copy.deepcopy(doc))
        slow = _slow(copy.deepcopy(doc), monkeypatch)
        # the phenopacket profile decides on conforms() alone whether to try the canonical form
        assert schema.conforms(copy.deepcopy(doc)) == (slow == []), path.name
        flagged += bool(slow)
        if fast != slow:
            differing.append((path.name, fast, slow))
    assert differing == []
    if name not in ("unchanged", "sex an enum number", "feature type without an id"):
        assert flagged, f"{name}: no document broke the schema; the test proves nothing"


STORE = Path(__file__).resolve().parent.parent / "data" / "phenopacket-store"


def test_same_verdicts_on_the_curated_phenopackets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Raw and in protobuf's canonical spelling (most raw ones fail the schema: vcfRecord.pos
    as a number), both validators agree on every document."""
    paths = sorted(STORE.rglob("*.json"))
    checked = 0
    for path in paths:
        doc = json.loads(path.read_text())
        if not isinstance(doc, dict) or "metaData" not in doc:
            continue
        for form in (doc, schema.canonical_form(doc)):
            assert form is not None
            slow = _slow(copy.deepcopy(form), monkeypatch)
            assert schema.conforms(copy.deepcopy(form)) == (slow == []), path.name
            assert schema.schema_errors(copy.deepcopy(form)) == slow, path.name
            checked += 1
    assert checked >= 100, checked


def test_shared_message_is_not_changed_by_the_metadata_walk() -> None:
    """ontology_class_ids reads the cached protobuf message; it used to clear metaData on
    its own copy, which on a shared message would empty metaData for the checks after it."""
    doc = json.loads(DOCS[0].read_text())
    ids = validators.ontology_class_ids(doc)
    assert ids and all(":" in i for i in ids)
    assert schema.message(doc).meta_data.resources
    assert validators.ontology_class_ids(doc) == ids
    assert schema.with_defaults(doc) is not None
    assert schema.with_defaults(doc)["metaData"]["resources"]


def _forms() -> Any:
    """The curated documents, raw and canonical, then the broken fbxl4 documents."""
    for path in sorted(STORE.rglob("*.json")):
        doc = json.loads(path.read_text())
        if isinstance(doc, dict) and "metaData" in doc:
            yield path.name, doc
            yield path.name, schema.canonical_form(doc)
    for name, edit in sorted(BREAKS.items()):
        for path in DOCS:
            doc = json.loads(path.read_text())
            try:
                edit(doc)
            except (KeyError, IndexError):
                continue
            yield f"{path.name}: {name}", doc


def test_descriptor_walk_agrees_with_printing_the_message() -> None:
    """conforms() reads a missing required field off the message's descriptors instead of
    printing the whole message with its defaults; on every required-field complaint about
    these documents, both ways give the same answer, and the walk answers itself (no
    fallback to printing) for all of them."""
    import jsonschema_rs

    compared = {True: 0, False: 0}
    for name, form in _forms():
        assert form is not None
        parsed = schema.message(form)
        if parsed is None:
            continue  # protobuf refuses it: conforms() says no before any walk
        filled = schema.with_defaults(form)
        for error in schema._fast_validator().iter_errors(form):
            if not isinstance(error.kind, jsonschema_rs.ValidationErrorKind.Required):
                continue
            here = schema._at(filled, error.instance_path)
            printed = isinstance(here, dict) and error.kind.property in here
            walked = schema.filled_in(parsed, error.instance_path, error.kind.property)
            assert walked == printed, (name, error.instance_path, error.kind.property)
            compared[printed] += 1
    assert compared[True] >= 50 and compared[False] >= 1, compared


def test_descriptor_walk_tells_set_from_unset_presence_fields() -> None:
    doc = json.loads(DOCS[0].read_text())
    parsed = schema.message(doc)
    assert schema.filled_in(parsed, [], "subject") is True  # a message field, set
    assert schema.filled_in(parsed, [], "colour") is False  # no such field
    assert schema.filled_in(parsed, ["subject"], "sex") is True  # an enum: no presence
    empty = schema.message({"id": "x"})
    assert schema.filled_in(empty, [], "subject") is False  # a message field left unset
    assert schema.filled_in(empty, [], "phenotypicFeatures") is True  # repeated: printed []
    # inside an unset message: printing holds nothing there, so the walk does not answer
    assert schema.filled_in(empty, ["metaData"], "createdBy") is None
    # a well-known type (a Timestamp prints as a string): not walked
    assert schema.filled_in(parsed, ["metaData", "created"], "seconds") is None
