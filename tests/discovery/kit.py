"""Test kit for the Beacon: the official schemas (offline), cohorts to publish, a client."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from harmonize.discovery.beacon.config import BeaconSettings
from harmonize.drs.config import DrsSettings
from harmonize.settings import Settings
from harmonize.web import WebSettings, create_app
from tests.drs.passport_kit import KIT

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "tests" / "data" / "beacon-v2"
STORE = ROOT / "tests" / "data" / "phenopacket-store"
# where the model files say the framework lives; every such URL resolves to the local copy
UPSTREAM = "https://raw.githubusercontent.com/ga4gh-beacon/beacon-v2/main/"
API = "/ga4gh/beacon/v2"

# cohort -> (dataset, access, consent)
COHORTS = {
    "AIRE": ("aire", "public", ["DUO:0000042"]),
    "CHD8": ("chd8", "public", ["DUO:0000042"]),
    "FBXL4": ("fbxl4", "public", ["DUO:0000006"]),
    "MPV17": ("mpv17", "controlled", ["DUO:0000007"]),
    "SUOX": ("suox", "controlled", ["DUO:0000007"]),
}


class BeaconSchemas:
    """The official Beacon v2.1.1 schemas, every ``$ref`` resolved from the local copy."""

    def __init__(self, root: Path = SCHEMAS) -> None:
        resources = []
        for path in root.rglob("*.json"):
            contents = json.loads(path.read_text())
            uri = UPSTREAM + path.relative_to(root).as_posix()
            resources.append(
                (uri, Resource.from_contents(contents, default_specification=DRAFT202012))
            )
        # the default model's individuals and datasets refer to ../common/info.json, which
        # the model does not have (upstream v2.1.1): it is the framework's info.json
        info = json.loads((root / "framework/json/common/info.json").read_text())
        model_info = UPSTREAM + "models/json/beacon-v2-default-model/common/info.json"
        resources.append((model_info, Resource.from_contents(info, DRAFT202012)))
        self.registry: Registry[Any] = Registry().with_resources(resources)

    def validate(self, document: Any, schema: str) -> None:
        """Raise ``jsonschema.ValidationError`` unless ``document`` fits ``schema`` (a path
        such as ``framework/json/responses/beaconCountResponse.json``)."""
        validator = Draft202012Validator({"$ref": UPSTREAM + schema}, registry=self.registry)
        validator.validate(document)

    def response(self, document: dict[str, Any]) -> None:
        """Validate a query answer against the response schema its shape claims."""
        base = "framework/json/responses/"
        if "error" in document:
            self.validate(document, base + "beaconErrorResponse.json")
        elif "collections" in document.get("response", {}):
            self.validate(document, base + "beaconCollectionsResponse.json")
        elif "response" in document:
            self.validate(document, base + "beaconResultsetsResponse.json")
        elif "numTotalResults" in document["responseSummary"]:
            self.validate(document, base + "beaconCountResponse.json")
        else:
            self.validate(document, base + "beaconBooleanResponse.json")


def submission(cohort: str, into: Path, *, drop_last: int = 0) -> Path:
    """A submission directory for a phenopacket-store cohort (its spreadsheet + manifest)."""
    dataset, access, consent = COHORTS[cohort]
    folder = into / cohort.lower()
    folder.mkdir(parents=True, exist_ok=True)
    xlsx = next((STORE / cohort / "input").glob("*.xlsx"))
    target = folder / xlsx.name
    shutil.copy(xlsx, target)
    import openpyxl

    book = openpyxl.load_workbook(target)
    sheet = book.active
    # the submitter's fix for rows without an individual_id (as bench/accuracy.py does)
    header = [c.value for c in sheet[1]]
    column = header.index("individual_id") + 1
    empty = [
        r
        for r in range(3, sheet.max_row + 1)
        if not sheet.cell(r, column).value and any(c.value not in (None, "") for c in sheet[r])
    ]
    for r in reversed(empty):
        sheet.delete_rows(r)
    if drop_last:
        sheet.delete_rows(sheet.max_row - drop_last + 1, drop_last)
    book.save(target)
    manifest = {
        "submission_id": f"store-{cohort.lower()}",
        "submitter": "phenopacket-store",
        "dataset": dataset,
        "profile": "hpo-case-template",
        "access": access,
        "consent": consent,
        "files": [{"path": xlsx.name}],
    }
    (folder / "manifest.yaml").write_text(yaml.safe_dump(manifest))
    return folder


def settings_for(workspace: Path, cache: Path) -> Settings:
    return Settings(
        workspace=workspace,
        ontology_cache=cache,
        on_conflict="keep-observed",
        run_great_expectations=False,
        data_docs=False,
    )


def client(settings: Settings, beacon: BeaconSettings | None = None) -> TestClient:
    drs = DrsSettings(
        workspace=settings.workspace,
        registry_url=settings.registry,
        auth=KIT.auth_settings(),
    )
    web = WebSettings(
        drs=drs,
        pipeline=settings,
        # records on a visa alone: these tests are about grants; test_data_use.py about uses
        beacon=beacon
        or BeaconSettings(recheck_seconds=0, budget_queries=0, require_data_use=False),
    )
    return TestClient(create_app(web))


def bearer(*datasets: str) -> dict[str, str]:
    """An Authorization header: a passport with a grant for each dataset."""
    token = KIT.passport([KIT.visa(d) for d in datasets])
    return {"Authorization": f"Bearer {token}"}
