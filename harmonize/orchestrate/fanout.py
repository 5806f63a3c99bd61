"""The pipeline's stages as separate steps over files, so a scheduler can fan batches out.

``harmonize ingest`` streams a submission through read -> check-raw -> harmonize -> check
-> publish in one process. The ingest DAG runs the same stages as tasks that hand each
other paths:

- :func:`read_submission` (read): admits the submission (:func:`harmonize.pipeline.admit`)
  and writes each raw batch the reader yields as Arrow IPC;
- :func:`harmonize_batches` (check-raw, harmonize, check; one mapped task per group of
  batches): each batch's checked tables (Arrow IPC), Phenopacket files and findings;
- :func:`publish_submission` (publish): merges the batches in order, checks what spans
  batches (phenopacket ids unique across the submission, an empty submission), writes
  the report, then rejects or commits everything at once
  (:func:`harmonize.pipeline.finish`).

A run's files live under ``WORKSPACE/runs/<submission>-<sha12>-<event12>/``::

    planned.json                   what ``read`` decided (:class:`Planned`), for ``publish``
    plan.json                      the batches, and the timestamp every document gets
    batches/00000/raw.arrow        a raw batch; the submitter's row numbers in ``__row``
    batches/00000/tables/*.arrow   its checked tables
    batches/00000/files.jsonl      its Phenopacket files (a publish stage's layout)
    batches/00000/data-docs/*.html its Data Docs pages (the first batch's), for the report
    batches/00000/outcome.json     findings and counts: written last, so a batch is done
                                   exactly when it exists (a retried task skips it)
    result.json                    the outcome, for ``announce``

Merging batch findings in batch order gives the same report as one process would
(:meth:`~harmonize.quality.collect.FindingCollector.merge`); only data docs differ: the
first batch writes them. A batch keeps its pages in its own directory, so they travel with
it to the publishing host (through the object store when the hosts share no disk), and
``publish`` puts them into the submission's report folder.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from harmonize.consent.rows import own_consent
from harmonize.errors import HarmonizeError, TerminalError
from harmonize.orchestrate.stages import Received, finished, mismatch
from harmonize.quality.collect import FindingCollector
from harmonize.settings import Settings

PLAN = "plan.json"
PLANNED = "planned.json"
OUTCOME = "outcome.json"
RAW = "raw.arrow"
ROW = "__row"
DOCS = "data-docs"  # a batch's Data Docs pages, and the report's


@dataclass(frozen=True)
class Planned:
    """A received submission and its raw batches (none when its outcome is decided)."""

    received: Received
    batches: tuple[str, ...] = ()
    rows: tuple[int, ...] = ()  # raw rows per batch

    def to_dict(self) -> dict[str, Any]:
        return {
            "received": self.received.to_dict(),
            "batches": list(self.batches),
            "rows": list(self.rows),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Planned:
        return cls(
            Received.from_dict(data["received"]),
            tuple(data.get("batches") or ()),
            tuple(data.get("rows") or ()),
        )

    def save(self) -> Planned:
        """Write to the run directory, where :meth:`load` finds it."""
        from harmonize.quality.html import write_text_atomic

        write_text_atomic(Path(self.received.run_dir) / PLANNED, json.dumps(self.to_dict()))
        return self

    @classmethod
    def load(cls, run_dir: Path) -> Planned:
        """What :meth:`save` wrote in ``run_dir``."""
        try:
            return cls.from_dict(json.loads((run_dir / PLANNED).read_text()))
        except FileNotFoundError as exc:
            from harmonize.errors import TransientError

            raise TransientError(
                f"the submission of {run_dir.name} was never read",
                hint="the read stage must finish first; this task is retried",
            ) from exc


# --------------------------------------------------------------------------- read


def read_submission(received: Received, settings: Settings, *, stores: Any = None) -> Planned:
    """The read stage: admit the submission and write its raw batches; saved in the run.

    A submission decided at admission (rejected files, already published) or one whose
    files cannot be read (a terminal error) gets its result file now and no batches.
    ``stores`` (:func:`harmonize.pipeline.open_stores`) may be shared by several calls.
    """
    return _read(received, settings, stores).save()


def _read(received: Received, settings: Settings, stores: Any) -> Planned:
    from harmonize.harmonizer import Harmonizer
    from harmonize.pipeline import IngestResult, admit, failed, open_stores

    if received.result_file is not None:
        return Planned(received)
    assert received.source_dir is not None
    stores = stores or open_stores(settings)
    admitted = admit(Path(received.source_dir), settings, stores)
    if isinstance(admitted, IngestResult):
        return _decided(received, settings, admitted)
    submission = admitted
    if submission.id != received.submission_id:
        return _decided(received, settings, mismatch(received, submission.id, settings))
    stores.state.set_status(submission.id, submission.manifest_sha256, "processing")
    run_dir = Path(received.run_dir)
    shutil.rmtree(run_dir / "batches", ignore_errors=True)
    findings = FindingCollector()
    batches: list[str] = []
    rows: list[int] = []
    try:
        work = Harmonizer(submission, settings, findings)
        for file in submission.files:
            for batch in work.read(file):
                path = run_dir / "batches" / f"{len(batches):05d}"
                _write_raw(path, batch)
                batches.append(str(path))
                rows.append(batch.num_rows)
    except TerminalError as exc:
        from harmonize.pipeline import reject

        outcome = reject(settings, submission.id, exc, submission, findings, state=stores.state)
        return _decided(received, settings, outcome)
    except BaseException:
        failed(submission, stores)
        raise
    plan = {"created": work.created, "batches": batches, "source_dir": received.source_dir}
    (run_dir / PLAN).write_text(json.dumps(plan, indent=2))
    return Planned(received, tuple(batches), tuple(rows))


def _write_raw(path: Path, batch: Any) -> None:
    path.mkdir(parents=True, exist_ok=True)
    table = batch.table.append_column(ROW, batch.rows)
    meta = {
        b"file": batch.file.encode(),
        b"sheet": (batch.sheet or "").encode(),
        b"has_sheet": b"1" if batch.sheet is not None else b"0",
        b"headers": json.dumps(batch.headers).encode(),
    }
    table = table.replace_schema_metadata(meta)
    _write_ipc(path / RAW, table)


def _read_raw(path: Path) -> Any:
    from harmonize.readers.base import SourceBatch

    table = _read_ipc(path / RAW)
    meta = table.schema.metadata or {}
    rows = table.column(ROW).combine_chunks()
    table = table.drop_columns([ROW]).replace_schema_metadata(None)
    return SourceBatch(
        file=meta[b"file"].decode(),
        table=table,
        rows=rows,
        sheet=meta[b"sheet"].decode() if meta.get(b"has_sheet") == b"1" else None,
        headers=json.loads(meta[b"headers"]),
    )


def _write_ipc(path: Path, table: pa.Table) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    tmp.replace(path)


def _read_ipc(path: Path) -> pa.Table:
    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_file(source).read_all()


# --------------------------------------------------------------------------- harmonize


def harmonize_batches(batch_dirs: Iterable[str], settings: Settings) -> list[str]:
    """The check-raw, harmonize and check stages for raw batches; their directories.

    A batch already done (its ``outcome.json`` exists: a retried task) is skipped. A
    terminal error is recorded in the batch's outcome for the publish stage to reject
    with; a transient one propagates, so the task is retried.
    """
    runs: dict[Path, tuple[dict[str, Any], Any]] = {}  # run dir -> (plan, submission)
    for name in batch_dirs:
        path = Path(name)
        if not (path / OUTCOME).exists():
            _harmonize_batch(path, settings, runs)
    return list(batch_dirs)


def _harmonize_batch(
    path: Path, settings: Settings, runs: dict[Path, tuple[dict[str, Any], Any]]
) -> None:
    """One batch; ``runs`` keeps each run's plan and received submission across batches."""
    from harmonize.harmonizer import Harmonizer
    from harmonize.publish.stage import Stage, subjects_of
    from harmonize.quality.html import write_text_atomic
    from harmonize.submission.receive import receive

    for leftover in ("tables", "published", "files.jsonl", DOCS):
        target = path / leftover
        shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
    findings = FindingCollector()
    outcome: dict[str, Any]
    try:
        run_dir = path.parent.parent
        if run_dir not in runs:
            plan = json.loads((run_dir / PLAN).read_text())
            source = Path(plan["source_dir"])
            runs[run_dir] = (
                plan,
                receive(
                    source,
                    max_file_bytes=settings.max_file_bytes,
                    max_files=settings.limits.max_files,
                ),
            )
        plan, submission = runs[run_dir]
        if plan["batches"][0] != str(
            path
        ):  # the first batch writes the data docs, as in one process
            settings = settings.model_copy(update={"data_docs": False})
        work = Harmonizer(submission, settings, findings, created=plan["created"])
        mapped, docs = work.batch(_read_raw(path))
        (path / "tables").mkdir()
        for table_name, table in mapped.tables.items():
            if table.num_rows:
                _write_ipc(path / "tables" / f"{table_name}.arrow", table)
        stage = Stage(path, submission.id)
        individuals = mapped.tables["individuals"]
        stage.write_documents(docs, own_consent(individuals), subjects_of(individuals))
        stage.seal()
        outcome = {
            "findings": findings.dump(),
            "validators": list(work.report.validators),
            "data_docs": _keep_pages(path, work.report.data_docs),
            "mappings": list(work.ctx.mappings),
        }
    except TerminalError as exc:
        outcome = {"findings": findings.dump(), "error": _error_dict(exc)}
    write_text_atomic(path / OUTCOME, json.dumps(outcome, default=str))


def _keep_pages(batch: Path, pages: Iterable[str]) -> list[str]:
    """Move the Data Docs pages a batch wrote into its directory; their paths relative to it."""
    kept = []
    for page in map(Path, pages):
        target = batch / DOCS / page.name
        target.parent.mkdir(exist_ok=True)
        shutil.move(page, target)
        kept.append(target.relative_to(batch).as_posix())
    return kept


def _adopt_pages(batch: _Batch, docs_dir: Path) -> list[str]:
    """Copy a batch's Data Docs pages into the report's ``data-docs`` folder; their paths.

    An outcome written before the pages moved into the batch directory names absolute
    paths (on the host that wrote them): those are taken where they are, when present.
    """
    adopted = []
    for rel in batch.outcome.get("data_docs") or []:
        source = batch.path / rel
        if not source.is_file():
            continue
        target = docs_dir / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.resolve() != target.resolve():
            shutil.copyfile(source, target)
        adopted.append(str(target))
    return adopted


def _error_dict(exc: HarmonizeError) -> dict[str, Any]:
    return {
        "type": type(exc).__name__,
        "message": exc.message,
        "hint": exc.hint,
        "file": exc.file,
        "sheet": exc.sheet,
        "row": exc.row,
        "column": exc.column,
        "value": None if exc.value is None else str(exc.value),
    }


def work_units(planned: Iterable[Planned], *, units: int) -> list[list[str]]:
    """Deal every batch of the planned submissions to at most ``units`` mapped tasks.

    Largest batch first, each to the group with the fewest rows: a large submission
    spreads over every task, and small ones share them (one process start for several).

    >>> work_units([Planned(Received("a", "s", "e", "r", "d"), ("a0", "a1"), (9, 9)),
    ...             Planned(Received("b", "s", "e", "r", "d"), ("b0",), (1,))], units=2)
    [['a0', 'b0'], ['a1']]
    """
    items = sorted(
        ((rows, batch) for p in planned for batch, rows in zip(p.batches, p.rows, strict=True)),
        key=lambda item: -item[0],
    )
    groups: list[tuple[int, list[str]]] = []
    for rows, batch in items:
        if len(groups) < units:
            groups.append((rows, [batch]))
            continue
        i = min(range(len(groups)), key=lambda g: groups[g][0])
        load, members = groups[i]
        groups[i] = (load + rows, [*members, batch])
    return [sorted(members) for _, members in groups]


# --------------------------------------------------------------------------- publish


def publish_submission(
    planned: Planned,
    settings: Settings,
    *,
    before_commit: Callable[[Path], None] | None = None,
    stores: Any = None,
) -> Path:
    """The publish stage: merge the batches, check across them, reject or commit; the result file.

    ``stores`` (:func:`harmonize.pipeline.open_stores`) may be shared by several calls.
    """
    from harmonize.harmonizer import Run
    from harmonize.pipeline import (
        concurrently_published,
        failed,
        finish,
        open_stores,
        reject,
        staging,
    )
    from harmonize.publish.stage import Stage
    from harmonize.quality import validators
    from harmonize.quality.findings import QualityReport
    from harmonize.quality.seen import SeenIds
    from harmonize.submission.receive import receive

    received = planned.received
    if received.result_file is not None:
        return Path(received.result_file)
    run_dir = Path(received.run_dir)
    plan = json.loads((run_dir / PLAN).read_text())
    stores = stores or open_stores(settings)
    submission = receive(
        Path(plan["source_dir"]),
        max_file_bytes=settings.max_file_bytes,
        max_files=settings.limits.max_files,
    )
    with staging(submission, settings, stores) as stage_root:
        if stage_root is None:
            outcome = concurrently_published(submission, settings, stores)
            return finished(received, settings, outcome)
        findings = FindingCollector()
        report = QualityReport(submission_id=submission.id)
        counts: dict[str, int] = {}
        stage = Stage(stage_root, submission.id)
        docs_dir = settings.reports_dir / submission.id / DOCS
        shutil.rmtree(docs_dir, ignore_errors=True)  # an earlier version's pages
        try:
            seen = SeenIds()
            for batch in _outcomes(planned):
                findings.merge(batch.outcome["findings"])
                if "error" in batch.outcome:
                    stage.abort()
                    outcome = reject(
                        settings,
                        submission.id,
                        _terminal(batch.outcome["error"], submission.id),
                        submission,
                        findings,
                        state=stores.state,
                    )
                    return finished(received, settings, outcome)
                for validator in batch.outcome["validators"]:
                    report.ran(validator)
                report.data_docs.extend(
                    d for d in _adopt_pages(batch, docs_dir) if d not in report.data_docs
                )
                report.mappings.extend(batch.outcome["mappings"])
                tables = batch.tables()
                if "individuals" in tables:  # ids unique across batches, as within one
                    keep = validators.check_unique_ids(tables["individuals"], seen, findings)
                    dropped = set(
                        tables["individuals"]
                        .filter(pc.invert(keep))
                        .column("phenopacket_id")
                        .to_pylist()
                    )
                    tables["individuals"] = tables["individuals"].filter(keep)
                else:
                    dropped = set()
                stage.write_tables(tables)
                stage.adopt_documents(batch.path, skip_ids=dropped)
                for name, table in tables.items():
                    counts[name] = counts.get(name, 0) + table.num_rows
            outcome = finish(
                submission, settings, stores, stage, Run(report, counts), findings, before_commit
            )
        except TerminalError as exc:
            stage.abort()
            outcome = reject(settings, submission.id, exc, submission, findings, state=stores.state)
        except BaseException:
            stage.abort()
            failed(submission, stores)
            raise
    result = finished(received, settings, outcome)
    shutil.rmtree(run_dir / "batches", ignore_errors=True)
    return result


@dataclass
class _Batch:
    path: Path
    outcome: dict[str, Any] = field(default_factory=dict)

    def tables(self) -> dict[str, pa.Table]:
        folder = self.path / "tables"
        return {p.stem: _read_ipc(p) for p in sorted(folder.glob("*.arrow"))}


def _outcomes(planned: Planned) -> Iterator[_Batch]:
    for name in planned.batches:
        path = Path(name)
        try:
            outcome = json.loads((path / OUTCOME).read_text())
        except FileNotFoundError as exc:
            from harmonize.errors import TransientError

            raise TransientError(
                f"batch {path.name} of {planned.received.submission_id} was never harmonized",
                submission_id=planned.received.submission_id,
                hint="the harmonize task must finish first; this task is retried",
            ) from exc
        yield _Batch(path, outcome)


def _terminal(error: dict[str, Any], submission_id: str) -> TerminalError:
    from harmonize import errors

    cls = getattr(errors, error["type"], None)
    if not (isinstance(cls, type) and issubclass(cls, TerminalError)):
        cls = TerminalError
    fields = {k: error[k] for k in ("hint", "file", "sheet", "row", "column", "value")}
    return cls(error["message"], submission_id=submission_id, **fields)


def _decided(received: Received, settings: Settings, outcome: Any) -> Planned:
    path = finished(received, settings, outcome)
    return Planned(replace(received, source_dir=None, result_file=str(path)))
