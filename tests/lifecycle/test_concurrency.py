"""A resubmission and a withdrawal on the same dataset at once: serialized, both take effect.

The warehouse lock serializes the commits; a withdrawal that lands while the new version
is being harmonized makes that run fail with a transient error at its commit, and its
retry (what a worker or the DAG does) leaves the withdrawn individual out. No update is lost.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harmonize.drs.registry import Registry
from harmonize.lifecycle.verify import verify
from harmonize.pipeline import ingest
from harmonize.settings import Settings
from harmonize.warehouse import Warehouse, current, ledger

from .test_faults import SUBJECT, public_copy

pytestmark = pytest.mark.integration


def cli(settings: Settings, *args: str) -> list[str]:
    command = [sys.executable, "-m", "harmonize.cli", *args, "-w", str(settings.workspace)]
    if settings.registry_url:
        command += ["--registry-url", settings.registry_url]
    if settings.warehouse_url:
        command += ["--warehouse", settings.warehouse_url]
    if settings.s3_endpoint_url:
        command += ["--s3-endpoint-url", settings.s3_endpoint_url]
    return command


@pytest.mark.parametrize("delay", [0.0, 1.5, 3.0])
def test_a_resubmission_and_a_withdrawal_at_once_both_take_effect(
    backend: Settings, submissions: Path, tmp_path: Path, delay: float
) -> None:
    source = public_copy(submissions, tmp_path / "v1")
    assert ingest(source, backend).status == "published"
    v2 = tmp_path / "v2"
    shutil.copytree(source, v2)
    (v2 / "manifest.yaml").write_text(
        (v2 / "manifest.yaml").read_text().replace("Monarch Initiative", "Monarch")
    )
    resubmit = subprocess.Popen(cli(backend, "ingest", str(v2)), stdout=subprocess.PIPE, text=True)
    time.sleep(delay)  # the withdrawal lands before, during or after the harmonizing
    withdraw = subprocess.run(
        cli(
            backend,
            "withdraw",
            "--dataset",
            "phenopacket-store",
            "--subject",
            SUBJECT,
            "--by",
            "test",
        ),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert withdraw.returncode == 0, withdraw.stderr
    out, _ = resubmit.communicate(timeout=300)
    attempts = 1
    while resubmit.returncode == 3 and attempts < 4:  # transient: retried, as a worker does
        attempts += 1
        retry = subprocess.run(cli(backend, "ingest", str(v2)), capture_output=True, text=True)
        resubmit.returncode = retry.returncode
    assert resubmit.returncode == 0, out

    registry = Registry(backend.registry)
    individuals = Warehouse.of(backend).read("individuals", current(registry))
    assert set(individuals.column("submission_version").to_pylist()) == {2}  # the resubmission
    assert SUBJECT not in individuals.column("subject_id").to_pylist()  # and the withdrawal
    assert individuals.num_rows == 34
    with registry.session() as session:
        kinds = [row.kind for row in reversed(ledger.history(session))]
    assert kinds.count("withdraw") == 1 and kinds.count("publish") == 2
    assert verify(backend, registry) == []
