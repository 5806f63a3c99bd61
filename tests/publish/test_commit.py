"""Atomic publish: a process that dies at any point leaves nothing, or everything after recovery."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harmonize.drs.registry import Registry
from harmonize.errors import PublishError
from harmonize.pipeline import ingest
from harmonize.publish.commit import recover
from harmonize.publish.stage import Stage
from harmonize.settings import Settings
from harmonize.state.store import StateStore
from harmonize.warehouse import Warehouse, current

pytestmark = pytest.mark.integration

# the child dies (os._exit) at one point of the commit
CHILD = """
import os, sys
from pathlib import Path
import harmonize.publish.commit as commit
from harmonize.warehouse.delta import DeltaWarehouse
from harmonize.warehouse import ledger
from harmonize.pipeline import ingest
from harmonize.settings import Settings

point = sys.argv[3]
def die(*a, **k):
    os._exit(9)
if point == "before-journal":
    commit.write_journal.__globals__["os"].replace = die  # dies writing the journal
elif point == "after-files":
    real_put = commit._put_files
    def put(*a, **k):
        real_put(*a, **k)
        os._exit(9)
    commit._put_files = put
elif point.startswith("after-table-"):
    n = int(point.rsplit("-", 1)[1])
    real = DeltaWarehouse.replace_submission
    done = []
    def replace(self, *a, **k):
        version = real(self, *a, **k)
        done.append(version)
        if len(done) == n:
            os._exit(9)
        return version
    DeltaWarehouse.replace_submission = replace
elif point == "before-registry":
    ledger.commit = die
settings = Settings(workspace=Path(sys.argv[1]), ontology_cache=Path(sys.argv[2]),
                    run_great_expectations=False, data_docs=False)
ingest(Path(sys.argv[4]), settings)
"""


def run_child(workspace: Path, cache: Path, point: str, submission: Path) -> int:
    script = textwrap.dedent(CHILD)
    proc = subprocess.run(
        [sys.executable, "-c", script, str(workspace), str(cache), point, str(submission)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 9, proc.stderr[-3000:]
    return proc.returncode


def published_files(workspace: Path) -> list[Path]:
    root = workspace / "published"
    tables = root / "tables"
    return (
        sorted(p for p in root.rglob("*") if p.is_file() and tables not in p.parents)
        if root.exists()
        else []
    )


def settings_for(workspace: Path, cache: Path) -> Settings:
    return Settings(
        workspace=workspace, ontology_cache=cache, run_great_expectations=False, data_docs=False
    )


def current_rows(settings: Settings) -> int:
    registry = Registry(settings.registry)
    return Warehouse.of(settings).read("individuals", current(registry)).num_rows


@pytest.mark.parametrize(
    "point", ["after-files", "after-table-1", "after-table-3", "after-table-5", "before-registry"]
)
def test_death_after_the_journal_is_rolled_forward(
    tmp_path: Path, ontology_cache: Path, submissions: Path, point: str
) -> None:
    ws = tmp_path / "ws"
    run_child(ws, ontology_cache, point, submissions / "suox-isod")
    settings = settings_for(ws, ontology_cache)
    registry = Registry(settings.registry)
    registry.create_all()
    assert registry.objects_for_submission("suox-isod") == []  # nothing registered yet
    assert current_rows(settings) == 0  # readers see nothing: no publication committed
    done = recover(settings, registry, StateStore(settings.registry))
    assert done == ["rolled forward suox-isod"]
    rows = [r for r in registry.objects_for_submission("suox-isod") if not r.is_bundle]
    assert {r.path for r in rows} == {p.relative_to(ws).as_posix() for p in published_files(ws)}
    assert len(list((ws / "published/phenopackets/suox-isod/v1").glob("*.json"))) == 35
    assert current_rows(settings) == 35
    assert not (ws / "staging" / "suox-isod").exists()
    # the next ingest of the same submission sees it published
    assert ingest(submissions / "suox-isod", settings).status == "already-published"


def test_death_before_the_journal_leaves_nothing(
    tmp_path: Path, ontology_cache: Path, submissions: Path
) -> None:
    ws = tmp_path / "ws"
    run_child(ws, ontology_cache, "before-journal", submissions / "suox-isod")
    assert published_files(ws) == []
    settings = settings_for(ws, ontology_cache)
    registry = Registry(settings.registry)
    assert recover(settings, registry, StateStore(settings.registry)) == ["discarded suox-isod"]
    assert registry.objects_for_submission("suox-isod") == []
    # a retry publishes completely
    assert ingest(submissions / "suox-isod", settings).status == "published"
    assert len(list((ws / "published/phenopackets/suox-isod/v1").glob("*.json"))) == 35
    assert current_rows(settings) == 35


def test_a_storage_failure_while_staging_is_transient_and_leaves_nothing(
    tmp_path: Path, ontology_cache: Path, submissions: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tmp_path / "ws", ontology_cache)

    def broken(self: Stage, docs: list, consent: object = None) -> None:
        raise PublishError("disk full", submission_id=self.submission_id)

    monkeypatch.setattr(Stage, "write_documents", broken)
    with pytest.raises(PublishError) as err:
        ingest(submissions / "suox-isod", settings)
    assert err.value.transient
    assert published_files(settings.workspace) == []
    assert not any((settings.workspace / "staging" / "suox-isod").glob("published"))
    store = StateStore(settings.registry)
    assert [h["status"] for h in store.history("suox-isod")] == ["received", "processing", "failed"]
    monkeypatch.undo()
    assert ingest(submissions / "suox-isod", settings).status == "published"
