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

    def broken(self: Stage, docs: list, consent: object = None, subjects: object = None) -> None:
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


def subject_index(settings: Settings) -> set[tuple[str, str, str, int]]:
    """The subject index: (object path, subject hash, submission, version) per row."""
    from sqlalchemy import select

    from harmonize.drs.models import DrsObjectRow
    from harmonize.warehouse.ledger import SubjectObjectRow

    registry = Registry(settings.registry)
    with registry.session() as session:
        query = select(
            DrsObjectRow.path,
            SubjectObjectRow.subject_hash,
            SubjectObjectRow.submission_id,
            SubjectObjectRow.version,
        ).join(DrsObjectRow, DrsObjectRow.id == SubjectObjectRow.object_id)
        return {tuple(row) for row in session.execute(query)}  # type: ignore[misc]


def expected_index(settings: Settings, sid: str, dataset: str) -> set[tuple[str, str, str, int]]:
    """One row per published individual with a subject: its Phenopacket file's object."""
    from harmonize.publish.stage import safe_name
    from harmonize.warehouse.ledger import subject_hash

    individuals = Warehouse.of(settings).read("individuals", current(Registry(settings.registry)))
    return {
        (f"published/phenopackets/{sid}/v1/{safe_name(pid)}.json", subject_hash(dataset, s), sid, 1)
        for pid, s in zip(
            individuals.column("phenopacket_id").to_pylist(),
            individuals.column("subject_id").to_pylist(),
            strict=True,
        )
        if s is not None
    }


def test_the_subject_index_names_each_phenopacket_of_a_subject(
    tmp_path: Path, ontology_cache: Path, submissions: Path
) -> None:
    """The commit streams the index from the staged records (bounded memory at 1M)."""
    settings = settings_for(tmp_path / "ws", ontology_cache)
    result = ingest(submissions / "suox-isod", settings)
    assert result.status == "published"
    index = subject_index(settings)
    assert len(index) == 35
    assert index == expected_index(settings, "suox-isod", "phenopacket-store")


def test_a_stage_without_subjects_in_its_records_is_indexed_from_its_table(
    tmp_path: Path, ontology_cache: Path, submissions: Path
) -> None:
    """A journal staged by an older Harmonize (records without subjects, no flag) rolls
    forward with the same subject index as a current one."""
    import orjson

    from harmonize.publish.commit import JOURNAL, STAGED_SUBJECTS
    from harmonize.publish.stage import FILES

    ws = tmp_path / "ws"
    run_child(ws, ontology_cache, "before-registry", submissions / "suox-isod")
    stage_root = ws / "staging" / "suox-isod"
    journal = orjson.loads((stage_root / JOURNAL).read_bytes())
    assert journal.pop(STAGED_SUBJECTS) is True
    (stage_root / JOURNAL).write_bytes(orjson.dumps(journal))
    records = [orjson.loads(line) for line in (stage_root / FILES).read_bytes().splitlines()]
    assert sum(len(r) == 8 for r in records) == 35  # each Phenopacket names its subject
    old = [r[:7] if len(r) == 8 and r[6] is not None else r[:6] for r in records]
    (stage_root / FILES).write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in old))
    settings = settings_for(ws, ontology_cache)
    registry = Registry(settings.registry)
    assert recover(settings, registry, StateStore(settings.registry)) == [
        "rolled forward suox-isod"
    ]
    index = subject_index(settings)
    assert len(index) == 35
    assert index == expected_index(settings, "suox-isod", journal["dataset"])
