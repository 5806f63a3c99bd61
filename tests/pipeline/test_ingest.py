"""The whole ``ingest`` on real submissions, then a DRS lookup of every published file."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from harmonize.drs.app import create_app
from harmonize.drs.config import DrsSettings
from harmonize.drs.registry import Registry
from harmonize.pipeline import ingest
from harmonize.settings import Settings
from harmonize.warehouse import Warehouse, current

pytestmark = pytest.mark.integration

TABLES = ("individuals", "phenotypic_features", "diseases", "variants")


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, submissions: Path, ontology_cache: Path):
    workspace = tmp_path_factory.mktemp("workspace")
    settings = Settings(
        workspace=workspace, ontology_cache=ontology_cache, on_conflict="keep-observed"
    )
    result = ingest(submissions / "aire-aps1", settings)
    assert result.status == "published", result.message
    return settings, result


def test_publishes_phenopackets_and_tables_in_the_contracted_layout(published) -> None:
    settings, _ = published
    ws = settings.workspace
    pp_dir = ws / "published" / "phenopackets" / "aire-aps1" / "v1"
    docs = sorted(pp_dir.glob("*.json"))
    assert len(docs) == 58
    doc = json.loads((pp_dir / "PMID_16965330_patient_1.json").read_text())
    assert doc["subject"]["id"] == "patient 1" and doc["subject"]["sex"] == "MALE"
    meta = doc["metaData"]
    assert meta["phenopacketSchemaVersion"] == "2.0.2"
    assert {r["namespacePrefix"] for r in meta["resources"]} >= {"HP", "OMIM", "GENO", "HGNC"}
    hp = next(r for r in meta["resources"] if r["namespacePrefix"] == "HP")
    assert hp["version"] == "2025-01-16"
    # homozygous c.769C>T: one variant, GENO homozygous
    gis = doc["interpretations"][0]["diagnosis"]["genomicInterpretations"]
    assert len(gis) == 1
    vd = gis[0]["variantInterpretation"]["variationDescriptor"]
    assert vd["allelicState"]["id"] == "GENO:0000136"
    assert vd["expressions"][0] == {"syntax": "hgvs.c", "value": "NM_000383.4:c.769C>T"}
    view = current(Registry(settings.registry))
    warehouse = Warehouse.of(settings)
    for table in ("individuals", "phenotypic_features", "diseases", "variants"):
        assert warehouse.read(table, view).num_rows > 0, table
    individuals = warehouse.read("individuals", view)
    assert individuals.num_rows == 58
    assert set(individuals.column("submission_id").to_pylist()) == {"aire-aps1"}
    assert set(individuals.column("submission_version").to_pylist()) == {1}
    features = warehouse.read("phenotypic_features", view)
    # lineage: every feature names its file, sheet, row, column and ontology release
    row = features.slice(0, 1).to_pylist()[0]
    assert row["source_file"] == "AIRE_APS1_individuals.xlsx" and row["source_sheet"] == "Sheet1"
    assert (
        row["source_row"] >= 3
        and row["source_column"]
        and row["ontology_release"] == "HP 2025-01-16"
    )
    data_files = list((ws / "published" / "tables" / "phenotypic_features").rglob("*.parquet"))
    assert data_files and all(
        pq.ParquetFile(f).metadata.row_group(0).column(0).compression == "ZSTD"
        for f in data_files
        if "_delta_log" not in f.parts
    )


def test_every_published_file_resolves_through_drs_with_its_checksum(published) -> None:
    settings, result = published
    app = create_app(DrsSettings(workspace=settings.workspace, registry_url=settings.registry))
    registry = Registry(settings.registry)
    rows = registry.objects_for_submission("aire-aps1")
    files = [r for r in rows if not r.is_bundle]
    roles = {r.role for r in files}
    assert roles == {"input", "published", "report"}
    tables = settings.workspace / "published" / "tables"  # Delta tables: not DRS objects
    on_disk = {
        p.relative_to(settings.workspace).as_posix()
        for p in (settings.workspace / "published").rglob("*")
        if p.is_file() and tables not in p.parents
    }
    assert {r.path for r in files} == on_disk
    with TestClient(app) as client:
        for row in files:
            obj = client.get(f"/ga4gh/drs/v1/objects/{row.id}").json()
            access = client.get(f"/ga4gh/drs/v1/objects/{row.id}/access/https").json()
            body = client.get(access["url"]).content
            assert hashlib.sha256(body).hexdigest() == obj["checksums"][0]["checksum"]
            assert len(body) == obj["size"]
        bundle = client.get(f"/ga4gh/drs/v1/objects/{result.bundle_id}").json()
        assert len(bundle["contents"]) == len(files)


def test_replaying_the_same_submission_is_a_no_op(published, submissions: Path) -> None:
    settings, result = published
    before = Registry(settings.registry).count()
    again = ingest(submissions / "aire-aps1", settings)
    assert again.status == "already-published" and again.bundle_id == result.bundle_id
    assert Registry(settings.registry).count() == before


def test_changed_content_under_a_published_id_is_version_2(
    published, tmp_path: Path, submissions: Path
) -> None:
    """Changed content under a published id was refused; it is the next version now."""
    settings, first = published
    changed = tmp_path / "aire-aps1"
    changed.mkdir()
    xlsx = submissions / "aire-aps1" / "AIRE_APS1_individuals.xlsx"
    (changed / xlsx.name).write_bytes(xlsx.read_bytes())
    manifest = (submissions / "aire-aps1" / "manifest.yaml").read_text()
    (changed / "manifest.yaml").write_text(
        manifest.replace("Monarch Initiative curators", "someone else")
    )
    result = ingest(changed, settings)
    assert result.status == "published" and "version 2" in result.message
    assert result.bundle_id != first.bundle_id
    registry = Registry(settings.registry)
    old_bundle = registry.get(first.bundle_id)
    assert old_bundle is not None and old_bundle.superseded_by == result.bundle_id
    individuals = Warehouse.of(settings).read("individuals", current(registry))
    assert set(individuals.column("submission_version").to_pylist()) == {2}
    assert individuals.num_rows == 58
