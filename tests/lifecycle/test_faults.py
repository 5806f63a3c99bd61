"""A process killed during a version commit or a withdrawal leaves all old or all new.

A real child process is killed (``os._exit``, or SIGKILL after a random delay) at points
of the commit; then ``harmonize recover`` runs, and the state is either the old one or the
new one, never a mix, and ``harmonize verify`` finds nothing wrong. The same suite runs on
SQLite + local disk and on PostgreSQL + S3 (moto).
"""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from harmonize.drs.registry import Registry
from harmonize.lifecycle.verify import verify
from harmonize.pipeline import ingest
from harmonize.publish.commit import recover
from harmonize.settings import Settings
from harmonize.state.store import StateStore
from harmonize.warehouse import Warehouse, current

from .conftest import settings_json

pytestmark = pytest.mark.integration

SUBJECT = "Proband 1 from PMID 9050047"

CHILD = """
import json, os, sys
from pathlib import Path
import harmonize.lifecycle.withdraw as withdraw_module
import harmonize.publish.commit as commit
from harmonize.drs.registry import Registry
from harmonize.settings import Settings
from harmonize.warehouse import ledger
from harmonize.warehouse.delta import DeltaWarehouse

settings = Settings(**json.loads(sys.argv[1]))
op, point, arg = sys.argv[2], sys.argv[3], sys.argv[4]

def die(*a, **k):
    os._exit(9)

def die_after(owner, name, n):
    real = getattr(owner, name)
    calls = []
    def wrapper(*a, **k):
        out = real(*a, **k)
        calls.append(1)
        if len(calls) == n:
            os._exit(9)
        return out
    setattr(owner, name, wrapper)

if point == "after-files":
    die_after(commit, "_put_files", 1)
elif point.startswith("after-table-"):
    name = "replace_submission" if op == "version" else "delete_rows"
    die_after(DeltaWarehouse, name, int(point.rsplit("-", 1)[1]))
elif point == "before-registry":
    ledger.commit = die
elif point == "before-sweep":
    withdraw_module.sweep = die
elif point == "before-journal":
    withdraw_module.os.replace = die
    commit.write_journal.__globals__["os"].replace = die

if op == "version":
    from harmonize.pipeline import ingest
    ingest(Path(arg), settings)
else:
    from harmonize.lifecycle.withdraw import withdraw
    registry = Registry(settings.registry)
    withdraw(settings, registry, dataset="phenopacket-store", subject=arg, by="test")
print("finished")
"""


def run_child(settings: Settings, op: str, point: str, arg: str) -> None:
    command = [
        sys.executable,
        "-c",
        textwrap.dedent(CHILD),
        settings_json(settings),
        op,
        point,
        arg,
    ]
    if point.startswith("random"):
        rng = random.Random(point)
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(0.5, 4.0))  # somewhere in the run: reading, staging, committing
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=300)
        return
    proc = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 9, (proc.returncode, proc.stdout[-500:], proc.stderr[-3000:])


def public_copy(submissions: Path, dest: Path) -> Path:
    shutil.copytree(submissions / "suox-isod", dest)
    manifest = dest / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("access: controlled", "access: public"))
    return dest


def state(settings: Settings) -> dict[str, object]:
    """What readers see: versions and subjects in the current tables."""
    registry = Registry(settings.registry)
    table = Warehouse.of(settings).read("individuals", current(registry))
    return {
        "versions": sorted(set(table.column("submission_version").to_pylist())),
        "rows": table.num_rows,
        "subject": SUBJECT in table.column("subject_id").to_pylist(),
    }


def recovered(settings: Settings) -> None:
    registry = Registry(settings.registry)
    recover(settings, registry, StateStore(settings.registry))
    problems = verify(settings, registry)
    assert problems == [], [str(p) for p in problems]


@pytest.mark.parametrize(
    "point",
    ["before-journal", "after-files", "after-table-2", "before-registry", "random-version"],
)
def test_a_version_commit_killed_anywhere_is_all_old_or_all_new(
    backend: Settings, submissions: Path, tmp_path: Path, point: str
) -> None:
    source = public_copy(submissions, tmp_path / "v1")
    assert ingest(source, backend).status == "published"
    old = state(backend)
    v2 = tmp_path / "v2"
    shutil.copytree(source, v2)
    (v2 / "manifest.yaml").write_text(
        (v2 / "manifest.yaml").read_text().replace("Monarch Initiative", "Monarch")
    )
    run_child(backend, "version", point, str(v2))
    new = {"versions": [2], "rows": 35, "subject": True}
    if point == "random-version":  # killed anywhere, perhaps after its commit or never
        assert state(backend) in (old, new)
    else:
        assert state(backend) == old  # readers never see half of it
    recovered(backend)
    after = state(backend)
    assert after in (old, new), after
    if point in ("after-files", "after-table-2", "before-registry"):  # journaled: rolled forward
        assert after == new
    # either way, the submission can go on: ingesting v2 now publishes it or finds it there
    assert ingest(v2, backend).status in ("published", "already-published")
    assert state(backend) == new
    assert verify(backend, Registry(backend.registry)) == []


@pytest.mark.parametrize(
    "point",
    [
        "before-journal",
        "after-table-1",
        "after-table-3",
        "before-registry",
        "before-sweep",
        "random-withdraw",
    ],
)
def test_a_withdrawal_killed_anywhere_is_all_old_or_all_new(
    backend: Settings, submissions: Path, tmp_path: Path, point: str
) -> None:
    source = public_copy(submissions, tmp_path / "v1")
    assert ingest(source, backend).status == "published"
    old = state(backend)
    assert old["subject"]
    run_child(backend, "withdraw", point, SUBJECT)
    if point == "before-sweep":  # committed: only the copies outside the tables remain
        assert state(backend) == {"versions": [1], "rows": 34, "subject": False}
    elif point != "random-withdraw":
        assert state(backend) == old  # nothing visible before the registry commit...
    recovered(backend)
    after = state(backend)
    new = {"versions": [1], "rows": 34, "subject": False}
    assert after in (old, new), after
    if point not in ("before-journal", "random-withdraw"):
        assert after == new  # ...and journaled withdrawals roll forward
