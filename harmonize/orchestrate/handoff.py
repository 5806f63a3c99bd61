"""The ingest DAG's hand-off between tasks through the object store, when there is one.

The tasks hand each other run directories (``WORKSPACE/runs/<name>/``: the event, the
plan, raw batches, each batch's tables, files and outcome, the result). With a local
warehouse they share one disk and nothing moves. With an S3 warehouse
(``HARMONIZE_WAREHOUSE=s3://...``) the tasks may run on different hosts that share no
file system (Celery workers): a task then

- :func:`pull`\\ s the run from ``<warehouse>/runs/<name>/`` into its own workspace,
  rewrites the paths the run's JSON files recorded on the writer's host to its own, and
  fetches the landed submission again from the landing store when it is not on its disk;
- :func:`push`\\ es what it wrote back (a batch's ``outcome.json`` last: a batch is done
  exactly when its outcome is there, locally or in the store).

A worker's disk is a cache: it may be lost between tasks, and a retried task on another
host finds everything in the store.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from harmonize.settings import Settings

PREFIX = "runs"
_LATE = ("outcome.json", "result.json")  # written last: they say the rest is complete
_REWRITTEN = ("planned.json", "plan.json")  # hold paths of the host that wrote them


def shared(settings: Settings) -> bool:
    """Whether runs go through the object store (an S3 warehouse is configured)."""
    return bool(settings.warehouse_url and settings.warehouse_url.startswith("s3://"))


def _store(settings: Settings):  # type: ignore[no-untyped-def]
    from harmonize.warehouse.files import open_files

    assert settings.warehouse_url is not None
    return open_files(settings.warehouse_url, s3_endpoint_url=settings.s3_endpoint_url)


def local_run(recorded: str, settings: Settings) -> Path:
    """This host's directory for a run another host recorded as ``recorded``."""
    return settings.workspace / "runs" / Path(recorded).name


def local_batch(recorded: str, settings: Settings) -> Path:
    """This host's directory for a batch recorded as ``.../runs/<run>/batches/<n>``."""
    path = Path(recorded)
    return local_run(str(path.parent.parent), settings) / "batches" / path.name


def push(run_dir: Path, settings: Settings, *, under: str = "") -> None:
    """Upload the files of ``run_dir`` (or of its subdirectory ``under``), the late ones last."""
    if not shared(settings):
        return
    store = _store(settings)
    root = run_dir / under if under else run_dir
    found = [root] if root.is_file() else root.rglob("*")
    files = sorted(p for p in found if p.is_file() and not p.name.endswith((".tmp", ".part")))
    for path in sorted(files, key=lambda p: p.name in _LATE):
        store.put(path, f"{PREFIX}/{run_dir.name}/{path.relative_to(run_dir).as_posix()}")


def pull(recorded_runs: Iterable[str], settings: Settings) -> dict[str, Path]:
    """Make each recorded run present on this host; recorded path -> local run directory.

    Without an object store the recorded paths are this host's and are returned as they are.
    """
    runs = {r: Path(r) for r in recorded_runs}
    if not shared(settings):
        return runs
    store = _store(settings)
    for recorded in list(runs):
        local = local_run(recorded, settings)
        runs[recorded] = local
        base = f"{PREFIX}/{local.name}/"
        for rel in store.list(base):
            target = local / rel[len(base) :]
            if target.name in _REWRITTEN or not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(target.name + ".part")
                tmp.write_bytes(store.get_bytes(rel))
                tmp.replace(target)
        _relocate(local, recorded, settings)
    return runs


def _relocate(local: Path, recorded: str, settings: Settings) -> None:
    """Rewrite the run's recorded paths to this host's, and fetch its source if missing."""
    plan_file = local / "plan.json"
    source = None
    if plan_file.exists():
        source = json.loads(plan_file.read_text()).get("source_dir")
    here = str(_source_here(local, source, settings)) if source else None
    for name in _REWRITTEN:
        path = local / name
        if path.exists():
            text = path.read_text().replace(
                json.dumps(recorded)[1:-1], json.dumps(str(local))[1:-1]
            )
            if source and here:
                text = text.replace(json.dumps(source)[1:-1], json.dumps(here)[1:-1])
            path.write_text(text)


def _source_here(local: Path, source: str, settings: Settings) -> Path:
    """The landed submission on this host: where it was recorded, or fetched again."""
    if Path(source).is_dir() and Path(source).is_relative_to(settings.workspace):
        return Path(source)
    from harmonize.events import created_data, parse_envelope
    from harmonize.intake import fetch_submission

    created = created_data(parse_envelope((local / "event.json").read_bytes()))
    return fetch_submission(created, settings)
