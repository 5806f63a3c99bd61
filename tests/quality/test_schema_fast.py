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
