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

What one push writes goes up as one tar archive (``<run>/packs/<part>.tar``), and only the
late files beside it: a batch of 50,000 individuals writes 50,000 Phenopacket files, and one
request per file made a 100,000-row fan-out over two hosts take over half an hour on S3.

A worker's disk is a cache: it may be lost between tasks, and a retried task on another
host finds everything in the store.
"""

from __future__ import annotations

import json
import os
import tarfile
import tempfile
import uuid
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from harmonize.settings import Settings

if TYPE_CHECKING:
    from harmonize.warehouse.files import FileStore

PREFIX = "runs"
PACKS = "packs"  # <run>/packs/<part>.tar: one push's files but the late ones
_LATE = ("outcome.json", "result.json")  # written last: they say the rest is complete
_REWRITTEN = ("planned.json", "plan.json")  # hold paths of the host that wrote them


def shared(settings: Settings) -> bool:
    """Whether runs go through the object store (an S3 warehouse is configured)."""
    return bool(settings.warehouse_url and settings.warehouse_url.startswith("s3://"))


def _store(settings: Settings) -> FileStore:
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
    """Upload the files of ``run_dir`` (or of its subdirectory ``under``): all but the late
    ones as one archive, then the late ones."""
    if not shared(settings):
        return
    store = _store(settings)
    root = run_dir / under if under else run_dir
    found = [root] if root.is_file() else root.rglob("*")
    files = sorted(p for p in found if p.is_file() and not p.name.endswith((".tmp", ".part")))
    early = [p for p in files if p.name not in _LATE]
    base = f"{PREFIX}/{run_dir.name}"
    if early:
        with tempfile.TemporaryDirectory(prefix="push-", dir=_scratch(settings)) as tmp:
            pack = Path(tmp) / "pack.tar"
            with tarfile.open(pack, "w") as archive:
                for path in early:
                    archive.add(path, arcname=path.relative_to(run_dir).as_posix())
            store.put(pack, f"{base}/{PACKS}/{_part(under)}.tar")
    for path in files:
        if path.name in _LATE:
            store.put(path, f"{base}/{path.relative_to(run_dir).as_posix()}")


def _part(under: str) -> str:
    """A pack's name for what ``push`` was given: ``run`` or ``batches~00001``."""
    return under.strip("/").replace("/", "~") or "run"


def _scratch(settings: Settings) -> Path:
    scratch = settings.workspace / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    return scratch


def pull(
    recorded_runs: Iterable[str], settings: Settings, *, batches: Collection[str] | None = None
) -> dict[str, Path]:
    """Make each recorded run present on this host; recorded path -> local run directory.

    With ``batches`` (batch directory names, ``00001``), of the runs' batches only those:
    a task that harmonizes two batches of sixteen does not fetch what the others wrote.
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
        recorded_json: dict[str, str] = {}  # rewritten before they reach the disk
        for rel in store.list(base):  # a batch's pack before the run's: its files are newer
            name = rel[len(base) :]
            if batches is not None and _batch_of(name) not in (None, *batches):
                continue
            if name.startswith(f"{PACKS}/") and name.endswith(".tar"):
                _unpack(store, rel, local, recorded_json, settings)
                continue
            target = local / name
            if target.name in _REWRITTEN:
                recorded_json[target.name] = store.get_bytes(rel).decode()
            elif not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                _write_atomic(target, store.get_bytes(rel))
        _relocate(local, recorded, recorded_json, settings)
    return runs


def _batch_of(name: str) -> str | None:
    """The batch a stored run file or pack belongs to (``None``: the run's own)."""
    parts = name.split("/")
    if parts[0] == PACKS:
        part = parts[-1].removesuffix(".tar").split("~")
        return part[1] if part[0] == "batches" and len(part) > 1 else None
    return parts[1] if parts[0] == "batches" and len(parts) > 2 else None


def _unpack(
    store: FileStore, rel: str, local: Path, texts: dict[str, str], settings: Settings
) -> None:
    """Write a pack's files under ``local`` (those not there yet); keep its JSON files that
    hold recorded paths in ``texts``, to be relocated."""
    with tempfile.TemporaryDirectory(prefix="pull-", dir=_scratch(settings)) as tmp:
        pack = Path(tmp) / "pack.tar"
        store.get(rel, pack)
        with tarfile.open(pack, "r") as archive:
            for member in archive:
                name = Path(member.name)
                if not member.isfile() or name.is_absolute() or ".." in name.parts:
                    continue  # written by push: only regular files under the run
                source = archive.extractfile(member)
                assert source is not None
                target = local / name
                if target.name in _REWRITTEN:
                    texts[target.name] = source.read().decode()
                elif not target.exists():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    _write_atomic(target, source.read())


def _write_atomic(target: Path, data: bytes) -> None:
    """Replace ``target`` at once. Two tasks on one host (a Celery worker's concurrency)
    may pull the same run at the same time: each writes its own temporary file."""
    tmp = target.with_name(f"{target.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.part")
    try:
        tmp.write_bytes(data)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)


def _relocate(local: Path, recorded: str, texts: dict[str, str], settings: Settings) -> None:
    """Write the run's JSON ``texts`` with the recorded paths made this host's, fetching its
    source if missing. A file on disk is always relocated: another task on this host may
    read it while this one pulls the run again."""
    source = json.loads(texts["plan.json"]).get("source_dir") if "plan.json" in texts else None
    here = str(_source_here(local, source, settings)) if source else None
    local.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        text = text.replace(json.dumps(recorded)[1:-1], json.dumps(str(local))[1:-1])
        if source and here:
            text = text.replace(json.dumps(source)[1:-1], json.dumps(here)[1:-1])
        _write_atomic(local / name, text.encode())


def _source_here(local: Path, source: str, settings: Settings) -> Path:
    """The landed submission on this host: where it was recorded, or fetched again."""
    if Path(source).is_dir() and Path(source).is_relative_to(settings.workspace):
        return Path(source)
    from harmonize.events import created_data, parse_envelope
    from harmonize.intake import fetch_submission

    created = created_data(parse_envelope((local / "event.json").read_bytes()))
    return fetch_submission(created, settings)
