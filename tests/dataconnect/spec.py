"""The Data Connect OpenAPI document (tests/data/data-connect), local, and validation by it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

DATA = Path(__file__).resolve().parents[1] / "data" / "data-connect"
API = DATA / "api.yaml"
LOCAL = DATA / "api.local.json"
DRS = Path(__file__).resolve().parents[1] / "drs" / "data" / "drs-openapi"
DRAFT7_URI = "http://json-schema.org/draft-07/schema#"
BASE = "urn:data-connect:api"


def localize() -> dict[str, Any]:
    """api.yaml with its remote ``$ref``s made local (see PROVENANCE.txt)."""
    document = yaml.safe_load(API.read_text())
    drs = json.loads((DRS / "drs-1.5.0.openapi.bundled.json").read_text())["components"]

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if node.get("$ref") == DRAFT7_URI:
                return {"type": "object", "description": "A JSON Schema (draft-07)"}
            return {key: walk(value) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(value) for value in node]
        return node

    local: dict[str, Any] = walk(document)
    local["components"]["schemas"]["Service"] = drs["schemas"]["Service"]
    local["components"]["schemas"]["ServiceType"] = drs["schemas"]["ServiceType"]
    return local


class Schemas:
    """Validate a response body against a component of api.yaml (its own $refs resolved)."""

    def __init__(self) -> None:
        document = json.loads(LOCAL.read_text())
        resource = Resource.from_contents(
            {"components": document["components"]}, default_specification=DRAFT7
        )
        self.registry: Registry = Registry().with_resource(BASE, resource)

    def check(self, instance: Any, component: str) -> None:
        schema = {"$ref": f"{BASE}#/components/schemas/{component}"}
        Draft7Validator(schema, registry=self.registry).validate(instance)
        for model in _models(instance):  # every data_model is a draft-07 JSON Schema
            Draft7Validator.check_schema(model)
        if component == "TableData" and "data_model" in instance:
            validator = Draft7Validator(instance["data_model"])
            for row in instance["data"]:
                validator.validate(row)

    def error(self, response: Any, status: int) -> str:
        """The ErrorResponse of ``response`` (status ``status``); its detail."""
        assert response.status_code == status, response.text
        body = response.json()
        self.check(body, "ErrorResponse")
        assert body["errors"] and body["errors"][0]["title"]
        return str(body["errors"][0].get("detail", ""))


def _models(instance: Any) -> list[Any]:
    if isinstance(instance, dict):
        found = [instance["data_model"]] if "data_model" in instance else []
        for key, value in instance.items():
            if key != "data_model":
                found += _models(value)
        return found
    if isinstance(instance, list):
        return [model for item in instance for model in _models(item)]
    return []
