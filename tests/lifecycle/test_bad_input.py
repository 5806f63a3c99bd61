"""Lifecycle bad input: each case a clear error, and nothing changes.

(An unknown subject is in test_withdraw.py; an unknown DUO code in the consent tests.)
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harmonize.cli import app as cli
from harmonize.drs.registry import Registry
from harmonize.lifecycle.verify import verify
from harmonize.lifecycle.withdraw import withdraw
from harmonize.pipeline import ingest
from harmonize.settings import Settings
from harmonize.warehouse import Warehouse, current, ledger

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(tmp_path: Path, ontology_cache: Path) -> Settings:
    return Settings(
        workspace=tmp_path / "ws",
        ontology_cache=ontology_cache,
        run_great_expectations=False,
        data_docs=False,
    )


def snapshot(settings: Settings) -> tuple[list[tuple[int, str]], int, int]:
    """What a reader and the ledger see: publications, current individuals, DRS objects."""
    registry = Registry(settings.registry)
    with registry.session() as session:
        publications = [(row.seq, row.kind) for row in ledger.history(session, limit=1000)]
    rows = Warehouse.of(settings).read("individuals", current(registry)).num_rows
    return publications, rows, registry.count()


def test_as_of_before_the_first_publication_is_a_usage_error(
    settings: Settings, submissions: Path
) -> None:
    runner = CliRunner()
    workspace = ["-w", str(settings.workspace)]
    assert ingest(submissions / "suox-isod", settings).status == "published"
    before = snapshot(settings)
    early = runner.invoke(cli, ["tables", "--as-of", "2000-01-01T00:00:00Z", *workspace])
    assert early.exit_code == 2, early.output
    assert "nothing was published at or before 2000-01-01" in early.output
    assert "the first publication is number 1" in early.output  # where history starts
    zero = runner.invoke(cli, ["tables", "--as-of", "0", *workspace])
    assert zero.exit_code == 2, zero.output
    neither = runner.invoke(cli, ["tables", "--as-of", "last tuesday", *workspace])
    assert neither.exit_code == 2 and "neither a publication number nor a time" in neither.output
    assert snapshot(settings) == before


def test_a_resubmission_of_a_dataset_whose_individuals_all_withdrew_is_rejected(
    settings: Settings, submissions: Path, tmp_path: Path
) -> None:
    """Every individual of the clinic cohort withdrew; a corrected resubmission of it has
    nothing left to publish: rejected with a message that says so, nothing changes."""
    source = tmp_path / "clinic"
    shutil.copytree(submissions / "clinic-tabular", source)
    assert ingest(source, settings).status == "published"
    registry = Registry(settings.registry)
    with (source / "clinic_export.csv").open(newline="") as handle:
        patients = [row["patient_id"] for row in csv.DictReader(handle)]
    assert len(patients) >= 5
    for patient in patients:
        withdraw(settings, registry, dataset="clinic-chd8", subject=patient, by="test")
    before = snapshot(settings)
    assert before[1] == 0

    manifest = source / "manifest.yaml"  # a new version: another submitter name
    manifest.write_text(manifest.read_text().replace("Example Children's Clinic", "Clinic"))
    result = ingest(source, settings)
    assert result.status == "rejected"
    assert result.report_json is not None
    report = result.report_json.read_text()
    assert "every individual of the submission was withdrawn from the dataset" in report
    assert not any(patient in report for patient in patients)  # ids of the withdrawn: none
    assert snapshot(settings) == before
    assert verify(settings, registry) == []
