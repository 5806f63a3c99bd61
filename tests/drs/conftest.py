"""Fixtures for the DRS tests: a workspace with real files, a SQLite registry, the app,
and validators for the compliance-suite schemas (v1.3.0) and the DRS 1.5.0 OpenAPI."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft7Validator
from referencing import Registry as RefRegistry
from referencing import Resource
from referencing.jsonschema import DRAFT7

from harmonize.drs.app import create_app
from harmonize.drs.config import DrsSettings
from harmonize.drs.ids import bundle_id, drs_id
from harmonize.drs.registry import BundleSpec, ObjectSpec, Registry
from tests.drs.passport_kit import KIT, Kit

DATA = Path(__file__).parent / "data"
COMPLIANCE = DATA / "compliance-suite" / "schemas" / "v1.3.0"
OPENAPI = DATA / "drs-openapi" / "drs-1.5.0.openapi.bundled.json"
CREATED = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
MANIFEST_SHA = hashlib.sha256(b"manifest of s1").hexdigest()
CONTROLLED_MANIFEST_SHA = hashlib.sha256(b"manifest of s2").hexdigest()


# -- schema validators -------------------------------------------------------------------

COMPLIANCE_BASE = "https://harmonize.test/compliance/v1.3.0/"
OPENAPI_URI = "https://harmonize.test/drs-1.5.0.openapi.json"


def _compliance_registry() -> RefRegistry:
    resources = []
    for path in sorted(COMPLIANCE.glob("*.json")):
        contents = json.loads(path.read_text())
        if path.name == "contents_object.json":
            # upstream defect: "$ref" says contents_object, the definition is content_object
            contents = copy.deepcopy(contents)
            contents["definitions"]["contents_object"] = contents["definitions"]["content_object"]
        resource = Resource.from_contents(contents, default_specification=DRAFT7)
        resources.append((COMPLIANCE_BASE + path.name, resource))
    registry: RefRegistry = RefRegistry().with_resources(resources)
    return registry


def _nullable_to_types(schema: Any) -> Any:
    """OpenAPI 3.0 ``nullable: true`` as JSON Schema (the 1.5.0 document has none today)."""
    if isinstance(schema, dict):
        out = {key: _nullable_to_types(value) for key, value in schema.items()}
        if out.pop("nullable", False) is True and "type" in out:
            types = out["type"] if isinstance(out["type"], list) else [out["type"]]
            out["type"] = [*types, "null"]
        return out
    if isinstance(schema, list):
        return [_nullable_to_types(item) for item in schema]
    return schema


def _openapi_registry() -> RefRegistry:
    document = json.loads(OPENAPI.read_text())
    wrapped = {"components": _nullable_to_types(document["components"])}
    resource = Resource.from_contents(wrapped, default_specification=DRAFT7)
    registry: RefRegistry = RefRegistry().with_resource(OPENAPI_URI, resource)
    return registry


@dataclass
class Schemas:
    """Validate JSON against a compliance-suite file or an OpenAPI component/response."""

    compliance: RefRegistry = field(default_factory=_compliance_registry)
    openapi: RefRegistry = field(default_factory=_openapi_registry)

    def check_compliance(self, instance: Any, file: str) -> None:
        schema = {"$ref": COMPLIANCE_BASE + file}
        Draft7Validator(schema, registry=self.compliance).validate(instance)

    def check_openapi(self, instance: Any, pointer: str) -> None:
        """``pointer`` like ``components/schemas/DrsObject``."""
        schema = {"$ref": f"{OPENAPI_URI}#/{pointer}"}
        Draft7Validator(schema, registry=self.openapi).validate(instance)

    def check_drs_object(self, instance: Any) -> None:
        self.check_compliance(instance, "drs_object.json")
        self.check_openapi(instance, "components/schemas/DrsObject")
        assert_no_nulls(instance)

    def check_error(self, response: Any, status: int) -> dict[str, Any]:
        assert response.status_code == status, response.text
        body: dict[str, Any] = response.json()
        self.check_compliance(body, "error.json")
        self.check_openapi(body, "components/schemas/Error")
        assert body["status_code"] == status
        assert isinstance(body["msg"], str) and body["msg"]
        return body


def assert_no_nulls(value: Any, where: str = "$") -> None:
    """The specification has optional fields, never null ones."""
    assert value is not None, f"null at {where}"
    if isinstance(value, dict):
        for key, item in value.items():
            assert_no_nulls(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            assert_no_nulls(item, f"{where}[{index}]")


@pytest.fixture(scope="session")
def schemas() -> Schemas:
    return Schemas()


# -- a workspace with published files ------------------------------------------------------


@dataclass
class Published:
    workspace: Path
    registry: Registry
    objects: dict[str, ObjectSpec]  # by name
    contents: dict[str, bytes]  # by name
    bundle: BundleSpec
    controlled: ObjectSpec
    controlled_bundle: BundleSpec
    specs: list[ObjectSpec]


FILES: list[tuple[str, str, str, str, bytes]] = [
    # (name, relative path, mime type, role, bytes)
    (
        "cases.parquet",
        "published/dataset=demo/submission=s1/cases.parquet",
        "application/vnd.apache.parquet",
        "published",
        b"PAR1" + bytes(range(256)) * 40 + b"PAR1",
    ),
    (
        "P1.json",
        "published/dataset=demo/submission=s1/phenopackets/P1.json",
        "application/json",
        "published",
        b'{"id": "P1", "subject": {"id": "patient-1"}}\n',
    ),
    (
        "cases.csv",
        "landing/s1/cases.csv",
        "text/csv",
        "input",
        b"id,sex,hpo\npatient-1,female,HP:0001250\n",
    ),
]


def _write(workspace: Path, relative: str, data: bytes) -> None:
    target = workspace / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def object_spec(
    name: str,
    relative: str,
    mime: str,
    role: str,
    data: bytes,
    *,
    submission_id: str = "s1",
    access: str = "public",
) -> ObjectSpec:
    sha = hashlib.sha256(data).hexdigest()
    return ObjectSpec(
        id=drs_id(submission_id, name, sha),
        name=name,
        path=relative,
        size=len(data),
        sha256=sha,
        mime_type=mime,
        submission_id=submission_id,
        dataset="demo",
        access=access,  # type: ignore[arg-type]
        role=role,  # type: ignore[arg-type]
        description=f"{role} file {name}",
        created_time=CREATED,
        aliases=(f"harmonize:{submission_id}/{name}",),
    )


@pytest.fixture
def published(tmp_path: Path, database_url: str) -> Iterator[Published]:
    """Real files in a workspace, registered on each back end (ids ``sqlite``, ``postgresql``)."""
    workspace = tmp_path / "workspace"
    specs = []
    contents = {}
    for name, relative, mime, role, data in FILES:
        _write(workspace, relative, data)
        specs.append(object_spec(name, relative, mime, role, data))
        contents[name] = data
    bundle = BundleSpec(
        id=bundle_id("s1", MANIFEST_SHA),
        name="s1",
        submission_id="s1",
        dataset="demo",
        access="public",
        member_ids=[spec.id for spec in specs],
        description="submission s1",
        created_time=CREATED,
    )
    secret = b'{"id": "P9", "genome": "controlled"}\n'
    secret_path = "published/dataset=demo/submission=s2/phenopackets/P9.json"
    _write(workspace, secret_path, secret)
    controlled = object_spec(
        "P9.json",
        secret_path,
        "application/json",
        "published",
        secret,
        submission_id="s2",
        access="controlled",
    )
    contents["P9.json"] = secret
    controlled_bundle = BundleSpec(
        id=bundle_id("s2", CONTROLLED_MANIFEST_SHA),
        name="s2",
        submission_id="s2",
        dataset="demo",
        access="controlled",
        member_ids=[controlled.id],
        created_time=CREATED,
    )
    registry = Registry(database_url)
    registry.create_all()
    registry.register(specs, bundle)
    registry.register([controlled], controlled_bundle)
    yield Published(
        workspace=workspace,
        registry=registry,
        objects={spec.name: spec for spec in [*specs, controlled]},
        contents=contents,
        bundle=bundle,
        controlled=controlled,
        controlled_bundle=controlled_bundle,
        specs=specs,
    )
    registry.dispose()


def settings_for(published: Published, **overrides: Any) -> DrsSettings:
    values: dict[str, Any] = {
        "workspace": published.workspace,
        "registry_url": published.registry.url,
        "hostname": "drs.example.org",
        "auth": KIT.auth_settings(),
    }
    values.update(overrides)
    return DrsSettings(**values)


@pytest.fixture
def make_client(published: Published) -> Iterator[Callable[..., TestClient]]:
    """Build a TestClient for the published workspace; keyword overrides go to DrsSettings."""
    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        app = create_app(settings_for(published, **overrides))
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


@pytest.fixture
def token() -> str:
    """A bearer JWT (a passport with a ControlledAccessGrants visa for dataset ``demo``)."""
    return KIT.token_for("demo")


@pytest.fixture(scope="session")
def kit() -> Kit:
    """The test issuers (broker RS256, visa issuer ES256, an untrusted rogue)."""
    return KIT


@pytest.fixture
def make_spec() -> Callable[..., ObjectSpec]:
    """``make_spec(name, relative, mime, role, data, submission_id=..., access=...)``."""
    return object_spec


@pytest.fixture
def write_file() -> Callable[[Path, str, bytes], None]:
    return _write
