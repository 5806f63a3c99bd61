"""Consent through a whole ingest: the manifest's and a row's DUO codes land in the
individuals table, the Phenopackets (``metaData.externalReferences``) and the DRS registry,
and an unknown code rejects the submission with nothing published."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from harmonize.cli import app
from harmonize.drs.registry import Registry
from harmonize.ontology import Ontologies
from harmonize.quality.schema import schema_errors
from harmonize.settings import Settings
from tests.mapping.conftest import SUBMISSIONS, Outcome, new_workspace, run_ingest

pytestmark = pytest.mark.integration

GRU, HMB, DS, IRB = "DUO:0000042", "DUO:0000006", "DUO:0000007", "DUO:0000021"
CSV = """pid,sex,codes,symptoms
P1,female,DUO:0000006; DUO:0000021,Seizures
P2,male,,Seizures
P3,female,DUO:0000007,Macrocephaly
"""
MAPPING = """id_column: pid
sex: {column: sex, values: {female: FEMALE, male: MALE}}
phenotypes:
  - {column: symptoms, separator: ";"}
consent: {column: codes, separator: ";"}
"""


def _submission(root: Path, *, consent: list[str], csv: str = CSV) -> Path:
    root.mkdir(parents=True)
    (root / "cases.csv").write_text(csv)
    (root / "mapping.yaml").write_text(MAPPING)
    manifest = {
        "submission_id": "consented",
        "profile": "tabular",
        "mapping": "mapping.yaml",
        "access": "controlled",
        "consent": consent,
        "files": [{"path": "cases.csv"}],
    }
    (root / "manifest.yaml").write_text(yaml.safe_dump(manifest))
    return root


def _settings(root: Path, ontologies: Ontologies) -> Settings:
    return Settings(
        workspace=new_workspace(root, ontologies), data_docs=False, run_great_expectations=False
    )


def _registered(outcome: Outcome) -> dict[str, Any]:
    registry = Registry(outcome.settings.registry)
    try:
        return {o.name: o for o in registry.objects_for_submission(outcome.sid)}
    finally:
        registry.dispose()


def _nothing_published(outcome: Outcome) -> None:
    assert outcome.result.status == "rejected"
    assert not (outcome.settings.published_dir / "phenopackets").exists()
    assert not _registered(outcome)
    assert outcome.table("individuals").num_rows == 0


@pytest.fixture(scope="module")
def consented(tmp_path_factory: pytest.TempPathFactory, ontologies: Ontologies) -> Outcome:
    root = tmp_path_factory.mktemp("consent")
    return run_ingest(_submission(root / "sub", consent=[GRU]), _settings(root, ontologies))


def test_a_row_s_codes_replace_the_manifest_s(consented: Outcome) -> None:
    assert consented.result.status == "published", consented.report["findings"]
    consent = {r["subject_id"]: r["consent"] for r in consented.rows("individuals")}
    assert consent == {"P1": [HMB, IRB], "P2": [GRU], "P3": [DS]}


def test_phenopackets_carry_consent_as_external_references(consented: Outcome) -> None:
    docs = consented.documents()
    refs = {pid: d["metaData"].get("externalReferences") for pid, d in docs.items()}
    assert refs["P1"] == [
        {
            "id": HMB,
            "reference": "http://purl.obolibrary.org/obo/DUO_0000006",
            "description": "data use permission: health or medical or biomedical research",
        },
        {
            "id": IRB,
            "reference": "http://purl.obolibrary.org/obo/DUO_0000021",
            "description": "data use modifier: ethics approval required",
        },
    ]
    assert [r["id"] for r in refs["P2"]] == [GRU]
    assert [r["id"] for r in refs["P3"]] == [DS]
    for doc in docs.values():
        assert not schema_errors(doc)


def test_drs_objects_carry_consent(consented: Outcome) -> None:
    """A Phenopacket's object carries its individual's codes; the rest the manifest's."""
    objects = _registered(consented)
    assert objects["P1.json"].consent == [HMB, IRB]
    assert objects["P2.json"].consent == [GRU]
    assert objects["cases.csv"].consent == [GRU]
    assert objects["quality-report.json"].consent == [GRU]
    registry = Registry(consented.settings.registry)
    try:
        bundle = registry.get(consented.result.bundle_id)
    finally:
        registry.dispose()
    assert bundle is not None and bundle.consent == [GRU]
    result = CliRunner().invoke(app, ["drs", "ls", "-w", str(consented.settings.workspace)])
    assert result.exit_code == 0, result.output
    listed = {r["name"]: r["consent"] for r in map(json.loads, result.stdout.splitlines())}
    assert listed["P1.json"] == [HMB, IRB] and listed["consented"] == [GRU]


def test_export_of_a_published_submission(consented: Outcome) -> None:
    workspace = str(consented.settings.workspace)
    args = ["--use", HMB, "--meets", IRB, "--table", "phenotypic_features", "-w", workspace]
    result = CliRunner().invoke(app, ["tables", "export", *args])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["phenopacket_id"] for r in rows] == ["P1"]


def test_an_unknown_manifest_code_rejects_and_publishes_nothing(
    tmp_path: Path, ontologies: Ontologies
) -> None:
    source = _submission(tmp_path / "sub", consent=[GRU, "DUO:0000099"])
    outcome = run_ingest(source, _settings(tmp_path, ontologies))
    _nothing_published(outcome)
    [finding] = [f for f in outcome.report["findings"] if f["level"] == "error"]
    assert finding["location"]["file"] == "manifest.yaml"
    assert finding["location"]["column"] == "consent"
    assert finding["location"]["value"] == "DUO:0000099"
    assert "DUO:0000099" in finding["message"]


def test_an_unknown_row_code_rejects_naming_its_cell(
    tmp_path: Path, ontologies: Ontologies
) -> None:
    csv = CSV.replace("DUO:0000007", "DUO:0000007;DUO:1234567")
    outcome = run_ingest(
        _submission(tmp_path / "sub", consent=[GRU], csv=csv), _settings(tmp_path, ontologies)
    )
    _nothing_published(outcome)
    [finding] = outcome.findings("unknown-consent-code", "error")
    assert finding["location"] == {
        "file": "cases.csv",
        "row": 4,
        "column": "codes",
        "value": "DUO:1234567",
    } | {k: v for k, v in finding["location"].items() if v is None}


def test_submitted_phenopackets_are_not_rewritten(tmp_path: Path, ontologies: Ontologies) -> None:
    """Consent of a `phenopacket` submission lives in the tables and DRS only."""
    source = tmp_path / "fbxl4"
    shutil.copytree(SUBMISSIONS / "fbxl4-phenopackets", source)
    manifest = yaml.safe_load((source / "manifest.yaml").read_text())
    manifest["consent"] = [HMB]
    (source / "manifest.yaml").write_text(yaml.safe_dump(manifest))
    outcome = run_ingest(source, _settings(tmp_path, ontologies))
    assert outcome.result.status == "published", outcome.report["findings"]
    for path in sorted((source / "phenopackets").glob("*.json")):
        submitted = json.loads(path.read_text())
        assert outcome.documents()[submitted["id"]] == submitted
    assert {tuple(r["consent"]) for r in outcome.rows("individuals")} == {(HMB,)}
    assert {tuple(o.consent) for o in _registered(outcome).values()} == {(HMB,)}
