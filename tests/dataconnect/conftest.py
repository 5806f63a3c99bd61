"""A workspace the pipeline published three submissions into, and a web app over it.

- ``fbxl4-phenopackets``: dataset ``phenopacket-store``, public;
- ``suox-isod`` as dataset ``isod-cohort``, controlled;
- ``fbxl4-phenopackets`` again, as submission and dataset ``fbxl4-restricted``, controlled.

A Passport from :mod:`tests.drs.passport_kit` carries visas for either controlled dataset.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from harmonize.discovery.dataconnect.config import DataConnectSettings
from harmonize.drs.config import DrsSettings
from harmonize.drs.registry import Registry
from harmonize.pipeline import ingest
from harmonize.settings import Settings
from harmonize.warehouse import Warehouse, current
from harmonize.web import WebSettings, create_app
from tests.dataconnect.spec import Schemas
from tests.drs.passport_kit import KIT

API = "/ga4gh/data-connect/v1"
PUBLIC = "phenopacket-store"
ISOD = "isod-cohort"
OTHER = "fbxl4-restricted"


@dataclass
class Published:
    settings: Settings


def _copy(submissions: Path, name: str, root: Path, **changes: str) -> Path:
    target = root / name
    shutil.copytree(submissions / name, target)
    manifest = target / "manifest.yaml"
    values = yaml.safe_load(manifest.read_text())
    values.update(changes)
    manifest.write_text(yaml.safe_dump(values, sort_keys=False))
    return target


def publish(root: Path, submissions: Path, ontology_cache: Path, **extra: str) -> Published:
    """Publish the three submissions; ``extra`` settings (e.g. an S3 warehouse)."""
    settings = Settings(
        workspace=root / "workspace",
        ontology_cache=ontology_cache,
        run_great_expectations=False,
        data_docs=False,
        **extra,
    )
    sources = [
        (_copy(submissions, "fbxl4-phenopackets", root, dataset=PUBLIC, access="public"), PUBLIC),
        (_copy(submissions, "suox-isod", root, dataset=ISOD, access="controlled"), ISOD),
    ]
    other = _copy(submissions, "fbxl4-phenopackets", root / "other", dataset=OTHER)
    yaml_path = other / "manifest.yaml"
    values = yaml.safe_load(yaml_path.read_text())
    values.update(submission_id=OTHER, access="controlled")
    yaml_path.write_text(yaml.safe_dump(values, sort_keys=False))
    sources.append((other, OTHER))
    for source, _dataset in sources:
        result = ingest(source, settings)
        assert result.status == "published", result.message
    return Published(settings)


def individuals(settings: Settings, dataset: str) -> set[str]:
    """The phenopacket ids the current tables hold for ``dataset``, read with deltalake."""
    view = current(Registry(settings.registry))
    table = Warehouse.of(settings).read("individuals", view, where={"dataset": dataset})
    return set(table.column("phenopacket_id").to_pylist())


@pytest.fixture(scope="module")
def published(
    tmp_path_factory: pytest.TempPathFactory, submissions: Path, ontology_cache: Path
) -> Published:
    return publish(tmp_path_factory.mktemp("dataconnect"), submissions, ontology_cache)


def app_for(settings: Settings, **config: object) -> TestClient:
    drs = DrsSettings(
        workspace=settings.workspace, registry_url=settings.registry, auth=KIT.auth_settings()
    )
    web = WebSettings(drs=drs, pipeline=settings, data_connect=DataConnectSettings(**config))
    return TestClient(create_app(web))


@pytest.fixture
def make_client(published: Published) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(**config: object) -> TestClient:
        client = app_for(published.settings, **config)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


@pytest.fixture(scope="session")
def spec() -> Schemas:
    return Schemas()


def bearer(*datasets: str) -> dict[str, str]:
    """Authorization header: a Passport with a visa for each of ``datasets``."""
    token = KIT.passport([KIT.visa(d) for d in datasets])
    return {"Authorization": f"Bearer {token}"}
