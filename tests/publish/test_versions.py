"""Versions: a changed resubmission under the same id is version 2, and version 1 stays resolvable.

Regression: a changed manifest under a published id was refused ("use a new submission
id"), and the corrected copy went in under a new id beside the wrong one.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import openpyxl
import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from harmonize.cli import app as cli
from harmonize.drs.app import create_app
from harmonize.drs.config import DrsSettings
from harmonize.drs.registry import Registry
from harmonize.pipeline import ingest
from harmonize.settings import Settings
from harmonize.warehouse import Warehouse, current, ledger, view_at
from harmonize.warehouse.diff import version_diff

pytestmark = pytest.mark.integration


def corrected(source: Path, dest: Path) -> tuple[Path, str, str]:
    """The SUOX cohort with one corrected cell (a sex) and its last individual removed.

    Returns the submission directory, the corrected individual and the removed one.
    """
    shutil.copytree(source, dest)
    xlsx = next(dest.glob("*.xlsx"))
    book = openpyxl.load_workbook(xlsx)
    sheet = book.active
    header = [c.value for c in sheet[1]]
    sex, who = header.index("sex") + 1, header.index("individual_id") + 1
    first = 3  # two header rows
    fixed = str(sheet.cell(first, who).value)
    sheet.cell(first, sex).value = "F" if sheet.cell(first, sex).value == "M" else "M"
    last = sheet.max_row
    removed = str(sheet.cell(last, who).value)
    sheet.delete_rows(last)
    book.save(xlsx)
    manifest = yaml.safe_load((dest / "manifest.yaml").read_text())
    manifest["files"][0]["sha256"] = hashlib.sha256(xlsx.read_bytes()).hexdigest()
    (dest / "manifest.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    return dest, fixed, removed


def test_a_corrected_resubmission_is_version_2(
    tmp_path: Path, submissions: Path, ontology_cache: Path
) -> None:
    settings = Settings(
        workspace=tmp_path / "ws",
        ontology_cache=ontology_cache,
        run_great_expectations=False,
        data_docs=False,
    )
    v1_source = tmp_path / "v1"  # a public copy, so that DRS answers without credentials
    shutil.copytree(submissions / "suox-isod", v1_source)
    manifest = v1_source / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("access: controlled", "access: public"))
    first = ingest(v1_source, settings)
    assert first.status == "published" and "version 1" in first.message
    registry = Registry(settings.registry)
    v1_docs = {
        r.name: r
        for r in registry.objects_for_submission("suox-isod")
        if r.role == "published" and r.name.endswith(".json")
    }
    source, fixed, removed = corrected(v1_source, tmp_path / "v2")

    second = ingest(source, settings)
    assert second.status == "published" and "version 2" in second.message

    # the current tables hold version 2 only: one individual fewer, the cell corrected
    warehouse = Warehouse.of(settings)
    now = current(registry)
    individuals = warehouse.read("individuals", now)
    assert set(individuals.column("submission_version").to_pylist()) == {2}
    assert individuals.num_rows == 34
    subjects = {r["subject_id"]: r for r in individuals.to_pylist()}
    assert removed not in subjects
    features = warehouse.read("phenotypic_features", now)
    assert set(features.column("submission_version").to_pylist()) == {2}

    # version 1's Phenopacket still resolves: same id, same bytes, marked superseded
    drs = create_app(DrsSettings(workspace=settings.workspace, registry_url=settings.registry))
    with TestClient(drs) as client:
        for row in list(v1_docs.values())[:3]:
            obj = client.get(f"/ga4gh/drs/v1/objects/{row.id}").json()
            assert obj["checksums"][0]["checksum"] == row.sha256
            url = client.get(f"/ga4gh/drs/v1/objects/{row.id}/access/https").json()["url"]
            body = client.get(url).content
            assert hashlib.sha256(body).hexdigest() == row.sha256
            assert any(a.startswith("superseded-by:") for a in obj["aliases"])
            assert second.bundle_id in obj["description"]

    # time travel: version 1 as its publication left the tables
    with registry.session() as session:
        v1, v2 = ledger.versions(session, "suox-isod")
    old = view_at(registry, v1.seq)
    assert set(warehouse.read("individuals", old).column("submission_version").to_pylist()) == {1}
    runner = CliRunner()
    shown = runner.invoke(cli, ["tables", "--as-of", str(v1.seq), "-w", str(settings.workspace)])
    assert shown.exit_code == 0, shown.output
    assert "suox-isod v1: 35" in shown.output
    assert "suox-isod v2" not in shown.output
    now_shown = runner.invoke(cli, ["tables", "-w", str(settings.workspace)])
    assert "suox-isod v2: 34" in now_shown.output

    # what changed: one individual removed, one changed
    diff = version_diff(warehouse, "suox-isod", old, view_at(registry, v2.seq))
    assert diff["individuals"].as_dict() == {"added": 0, "removed": 1, "changed": 1}
    assert diff["phenotypic_features"].removed > 0

    # the same version again is a no-op; so is the old one
    assert ingest(source, settings).status == "already-published"
    replay = ingest(v1_source, settings)
    assert replay.status == "already-published" and "superseded" in replay.message
    with registry.session() as session:
        assert len(ledger.versions(session, "suox-isod")) == 2
    assert fixed in subjects


def test_a_changed_mapping_is_a_new_version(
    tmp_path: Path, submissions: Path, ontology_cache: Path
) -> None:
    """The mapping shapes the output: a changed mapping under the same manifest is version 2
    (it answered "already published"), and the mapping is published with the inputs."""
    settings = Settings(
        workspace=tmp_path / "ws",
        ontology_cache=ontology_cache,
        run_great_expectations=False,
        data_docs=False,
    )
    source = tmp_path / "clinic"
    shutil.copytree(submissions / "clinic-tabular", source)
    assert ingest(source, settings).status == "published"
    mapping = source / "mapping.yaml"
    mapping.write_text(mapping.read_text().replace("id_prefix: clinic", "id_prefix: clinicb"))
    result = ingest(source, settings)
    assert result.status == "published" and "version 2" in result.message
    registry = Registry(settings.registry)
    inputs = {
        r.name for r in registry.objects_for_submission("clinic-2026-11") if r.role == "input"
    }
    assert "mapping/mapping.yaml" in inputs
    ids = Warehouse.of(settings).read("individuals", current(registry)).column("phenopacket_id")
    assert all(i.startswith("clinicb_") for i in ids.to_pylist())


def test_a_redelivered_event_running_beside_the_first_publishes_one_version(
    tmp_path: Path, submissions: Path, ontology_cache: Path
) -> None:
    """Two runs of one version, both admitted before either commits (a redelivered event
    on another worker): the second finds it committed and publishes nothing.

    Regression: the check still looked for a pre-version bundle id, so the second run
    published the same content again as version 2."""
    from harmonize.pipeline import _process, admit, open_stores
    from harmonize.submission.receive import Submission

    settings = Settings(
        workspace=tmp_path / "ws",
        ontology_cache=ontology_cache,
        run_great_expectations=False,
        data_docs=False,
    )
    source = submissions / "suox-isod"
    stores = open_stores(settings)
    first, second = (admit(source, settings, stores) for _ in range(2))
    assert isinstance(first, Submission) and isinstance(second, Submission)
    done = _process(first, settings, stores, None)
    assert done.status == "published" and "version 1" in done.message
    again = _process(second, settings, stores, None)
    assert again.status == "already-published"
    assert again.bundle_id == done.bundle_id
    with Registry(settings.registry).session() as session:
        assert [row.version for row in ledger.versions(session, "suox-isod")] == [1]


def test_the_ontology_part_of_a_version_is_the_loaded_releases_only(tmp_path: Path) -> None:
    """A code system checked for syntax only (no file) added to the ontology manifest is no
    new release: published submissions keep their identity. A new HPO release is one."""
    from harmonize.publish.versions import ontologies_sha256

    shipped = Settings().ontologies_dir / "manifest.yaml"
    manifest = tmp_path / "ontologies" / "manifest.yaml"
    manifest.parent.mkdir()
    manifest.write_bytes(shipped.read_bytes())
    settings = Settings(workspace=tmp_path / "ws", ontologies_dir=manifest.parent)
    before = ontologies_sha256(settings)
    data = yaml.safe_load(manifest.read_text())
    data["ontologies"].append(
        {"prefix": "RXNORM", "name": "RxNorm", "version": "unversioned", "file": None}
    )
    manifest.write_text(yaml.safe_dump(data))
    assert ontologies_sha256(settings) == before
    hp = next(e for e in data["ontologies"] if e["prefix"] == "HP")
    hp.update(version="2025-05-06", sha256="0" * 64)
    manifest.write_text(yaml.safe_dump(data))
    assert ontologies_sha256(settings) != before
