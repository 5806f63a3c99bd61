"""The Beacon over a warehouse on S3 (moto) answers as it does over the local workspace."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from harmonize.cli import app as cli
from harmonize.pipeline import ingest
from harmonize.settings import Settings
from tests.conftest import SUBMISSIONS
from tests.discovery.kit import API, bearer, client, settings_for

COHORT = SUBMISSIONS / "suox-isod"  # a real phenopacket-store cohort, controlled
DATASET = "phenopacket-store"
SUBJECT = "Proband 1 from PMID 9050047"


def _count(beacon, filters: str) -> int:
    answer = beacon.get(
        f"{API}/individuals",
        params={"requestedGranularity": "count", "filters": filters},
        headers=bearer(DATASET),
    ).json()
    assert "error" not in answer, answer
    return int(answer["responseSummary"]["numTotalResults"])


def _publish(settings: Settings, into: Path) -> None:
    folder = into / "suox-isod"
    shutil.copytree(COHORT, folder)
    result = ingest(folder, settings)
    assert result.status == "published", result.message


def test_beacon_over_s3_counts_as_local_and_sees_a_withdrawal(
    tmp_path: Path, ontology_cache: Path, moto_endpoint: str, warehouse_bucket: str
) -> None:
    local = settings_for(tmp_path / "local", ontology_cache)
    s3 = settings_for(tmp_path / "s3", ontology_cache).model_copy(
        update={
            "warehouse_url": f"s3://{warehouse_bucket}/warehouse",
            "s3_endpoint_url": moto_endpoint,
        }
    )
    _publish(local, tmp_path / "in-local")
    _publish(s3, tmp_path / "in-s3")
    assert not (s3.workspace / "published" / "tables").exists()  # the tables are in the bucket

    term = "HP:0001250"  # Seizure, with its descendants (the closure is built from S3 too)
    on_disk, on_s3 = client(local), client(s3)
    everyone, seizure = _count(on_disk, ""), _count(on_disk, term)
    assert 0 < seizure < everyone  # the filter filters
    assert (_count(on_s3, ""), _count(on_s3, term)) == (everyone, seizure)

    # harmonize discover reads the bucket too
    run = CliRunner().invoke(
        cli,
        [
            "discover",
            "--filter",
            term,
            "--all-datasets",
            "--workspace",
            str(s3.workspace),
            "--warehouse",
            str(s3.warehouse_url),
            "--s3-endpoint-url",
            moto_endpoint,
        ],
    )
    assert run.exit_code == 0, run.output
    assert json.loads(run.output)["responseSummary"]["numTotalResults"] == seizure

    run = CliRunner().invoke(
        cli,
        [
            "withdraw",
            "--dataset",
            DATASET,
            "--subject",
            SUBJECT,
            "--by",
            "test",
            "--workspace",
            str(s3.workspace),
            "--warehouse",
            str(s3.warehouse_url),
            "--s3-endpoint-url",
            moto_endpoint,
        ],
    )
    assert run.exit_code == 0, run.output
    # the same running Beacon reads the new publication from the bucket
    assert _count(on_s3, "") == everyone - 1
    assert _count(on_s3, term) == seizure - 1  # SUBJECT had seizures
    assert _count(on_disk, "") == everyone  # the local workspace is another warehouse
