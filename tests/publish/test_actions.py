"""The procedures and treatments tables: medicalActions published as rows, with lineage."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harmonize.drs.registry import Registry
from harmonize.lifecycle.verify import verify
from harmonize.lifecycle.withdraw import withdraw
from harmonize.pipeline import ingest
from harmonize.settings import Settings
from harmonize.warehouse import TABLES, Warehouse, current

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(tmp_path: Path, ontology_cache: Path) -> Settings:
    return Settings(
        workspace=tmp_path / "ws",
        ontology_cache=ontology_cache,
        run_great_expectations=True,
        data_docs=False,
    )


def rows(settings: Settings, name: str) -> list[dict[str, object]]:
    registry = Registry(settings.registry)
    try:
        return Warehouse.of(settings).read(name, current(registry)).to_pylist()
    finally:
        registry.dispose()


def documents(settings: Settings, submission: str) -> dict[str, dict[str, object]]:
    import json

    folder = next((settings.workspace / "published" / "phenopackets" / submission).glob("v*"))
    return {p.stem: json.loads(p.read_text()) for p in folder.glob("*.json")}


def test_fhir_procedures_and_medications_are_table_rows_that_a_withdrawal_removes(
    settings: Settings, submissions: Path, tmp_path: Path
) -> None:
    assert {"procedures", "treatments"} <= set(TABLES)
    source = tmp_path / "fhir"
    shutil.copytree(submissions / "fhir-cohort", source)
    result = ingest(source, settings)
    assert result.status == "published", result.message

    procedures, treatments = rows(settings, "procedures"), rows(settings, "treatments")
    by_code = {r["term_id"]: r for r in procedures}
    assert {"SNOMEDCT:80146002", "SNOMEDCT:40701008"} <= set(by_code)
    appendectomy = by_code["SNOMEDCT:80146002"]
    assert appendectomy["term_label"] == "Appendectomy"
    assert appendectomy["submission_id"] == "fhir-cohort-2024-05"
    assert appendectomy["submission_version"] == 1 and appendectomy["dataset"] == "fhir-rare"
    # lineage: the submitter's file, record (the NDJSON line) and field
    assert appendectomy["source_file"] == "cohort.ndjson"
    assert appendectomy["source_column"] == "Procedure.code"
    lines = (source / "cohort.ndjson").read_text().splitlines()
    assert '"cf-004-proc"' in lines[appendectomy["source_row"] - 1]
    agents = {r["agent_id"]: r for r in treatments}
    assert {"RXNORM:52175", "RXNORM:11118"} <= set(agents)
    assert (
        agents["RXNORM:52175"]["source_column"] == "MedicationStatement.medicationCodeableConcept"
    )

    # the tables hold what the Phenopackets hold, action for action
    docs = documents(settings, "fhir-cohort-2024-05")
    in_docs = sorted(
        (pid, a["procedure"]["code"]["id"])
        for pid, doc in docs.items()
        for a in doc.get("medicalActions", [])
        if "procedure" in a
    )
    assert in_docs == sorted((r["phenopacket_id"], r["term_id"]) for r in procedures)
    drugs = sorted(
        (pid, a["treatment"]["agent"]["id"])
        for pid, doc in docs.items()
        for a in doc.get("medicalActions", [])
        if "treatment" in a
    )
    assert drugs == sorted((r["phenopacket_id"], r["agent_id"]) for r in treatments)
    assert all("_source" not in a for doc in docs.values() for a in doc.get("medicalActions", []))

    # a withdrawal takes the individual's actions out of both tables
    who = agents["RXNORM:52175"]["phenopacket_id"]
    [person] = [r for r in rows(settings, "individuals") if r["phenopacket_id"] == who]
    registry = Registry(settings.registry)
    try:
        withdraw(settings, registry, dataset="fhir-rare", subject=person["subject_id"], by="test")
        assert verify(settings, registry) == []
    finally:
        registry.dispose()
    assert who not in {r["phenopacket_id"] for r in rows(settings, "procedures")}
    assert who not in {r["phenopacket_id"] for r in rows(settings, "treatments")}
    left = [r for r in rows(settings, "treatments") if r["agent_id"] == "RXNORM:11118"]
    assert left, "another individual's treatment stays"


def test_tabular_procedures_keep_their_cell_as_lineage(
    settings: Settings, submissions: Path, tmp_path: Path
) -> None:
    source = tmp_path / "cohort"
    shutil.copytree(submissions / "cohort-tabular", source)
    result = ingest(source, settings)
    assert result.status == "published", result.message
    procedures = rows(settings, "procedures")
    assert procedures, "the cohort has operations"
    assert {r["source_column"] for r in procedures} == {"operations"}
    first = next(r for r in procedures if r["term_id"] == "SNOMEDCT:80146002")
    assert first["source_file"] == "cohort.csv" and first["source_row"] == 2
    assert first["performed_age"] == "P19Y4M19D"  # 1971-08-02, born 1952-03-14
    assert rows(settings, "treatments") == []
