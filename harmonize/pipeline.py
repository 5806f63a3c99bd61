"""Run a submission through every stage without Airflow: the CLI's ``harmonize ingest``.

receive -> read -> check-raw -> harmonize -> check -> publish (stage, commit, register).
Each stage is a plain function of its own module; this module only orders them and
turns a terminal error into a rejected submission with a report.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from harmonize.errors import HarmonizeError, SubmissionError, TerminalError
from harmonize.harmonizer import Harmonizer, Run
from harmonize.quality.collect import FindingCollector
from harmonize.quality.findings import QualityReport
from harmonize.quality.report_store import save_report
from harmonize.settings import Settings
from harmonize.submission.receive import Submission, receive

if TYPE_CHECKING:
    from harmonize.publish.stage import Stage

Status = Literal["published", "rejected", "already-published"]
Progress = Callable[[str, int], None]  # (what, how many more individuals)


@dataclass
class IngestResult:
    status: Status
    submission_id: str
    report_json: Path | None = None
    report_html: Path | None = None
    bundle_id: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    findings: dict[str, int] = field(default_factory=dict)
    message: str = ""
    objects: int = 0  # DRS objects registered (the bundle's members)
    version: int | None = None  # the submission's version published (or found published)
    # where any host reads the report: <warehouse>/reports/<submission>/report.json with a
    # warehouse (an s3:// URI on S3), else the local report_json
    report_uri: str | None = None

    @property
    def report_location(self) -> str | None:
        return self.report_uri or (str(self.report_json) if self.report_json else None)

    @property
    def ok(self) -> bool:
        return self.status in ("published", "already-published")


def ingest(
    source: Path,
    settings: Settings,
    *,
    profile: str | None = None,
    mapping: Path | None = None,
    progress: Progress | None = None,
    before_commit: Callable[[Path], None] | None = None,
) -> IngestResult:
    """Ingest one submission (a directory with manifest.yaml, or one file with ``profile``).

    ``before_commit`` is called with the staging directory once the commit journal is
    written and before anything moves (fault-injection tests crash the process there).
    """
    stores = open_stores(settings)
    admitted = admit(source, settings, stores, profile=profile, mapping=mapping)
    if isinstance(admitted, IngestResult):
        return admitted
    return _process(admitted, settings, stores, progress, before_commit)


@dataclass
class Stores:
    """The registry and the state store of a workspace, with interrupted commits rolled forward."""

    registry: Any
    state: Any


def open_stores(settings: Settings) -> Stores:
    from harmonize.drs.registry import Registry
    from harmonize.errors import ConfigurationError
    from harmonize.publish.commit import recover
    from harmonize.state.store import StateStore
    from harmonize.warehouse.migrate import legacy_tables

    if settings.warehouse_url is None and legacy_tables(settings.workspace):
        raise ConfigurationError(
            "this workspace's tables were published before the table format",
            hint=f"run `harmonize tables migrate -w {settings.workspace}` once, then ingest",
        )
    settings.workspace.mkdir(parents=True, exist_ok=True)
    registry = Registry(settings.registry)
    registry.create_all()
    state = StateStore(settings.registry)
    recover(settings, registry, state)
    return Stores(registry, state)


def admit(
    source: Path,
    settings: Settings,
    stores: Stores,
    *,
    profile: str | None = None,
    mapping: Path | None = None,
) -> Submission | IngestResult:
    """The receive stage: a checked :class:`Submission` recorded as received, or the outcome.

    The outcome is decided here when the files do not pass (rejected), when this version
    is already published, or when its id was published with other content.
    """
    from harmonize.publish.versions import published_version

    registry, state = stores.registry, stores.state
    try:
        submission = receive(
            source,
            profile=profile,
            max_file_bytes=settings.max_file_bytes,
            mapping=mapping,
            access=settings.default_access,
            max_files=settings.limits.max_files,
        )
    except SubmissionError as exc:
        sid = _fallback_id(source)
        return reject(settings, sid, exc, None, FindingCollector())
    published = published_version(submission, settings, registry)
    if published is not None:
        version, bundle, superseded = published
        prior = state.get(submission.id, submission.manifest_sha256)
        if not (prior and prior["status"] == "published" and prior["bundle_id"] == bundle):
            # the registry is the truth: a commit finished but its state update was lost
            state.set_status(
                submission.id,
                submission.manifest_sha256,
                "published",
                bundle_id=bundle,
                detail="found committed in the registry",
            )
            prior = state.get(submission.id, submission.manifest_sha256)
        note = f" (version {version}, superseded)" if superseded else f" (version {version})"
        return IngestResult(
            "already-published",
            submission.id,
            bundle_id=bundle,
            version=version,
            report_uri=prior["report_path"] if prior else None,
            message=f"submission {submission.id} is already published{note}",
            counts=dict((prior or {}).get("stats") or {}),
        )
    state.set_status(
        submission.id,
        submission.manifest_sha256,
        "received",
        submitter=submission.manifest.submitter,
        dataset=submission.manifest.dataset,
        profile=submission.manifest.profile,
        access=submission.manifest.access,
    )
    return submission


def reject_unreceived(
    settings: Settings, submission_id: str, manifest_sha256: str, exc: HarmonizeError
) -> IngestResult:
    """Reject a submission that could not even be received (fetch failed, bad manifest).

    Writes the report and records the rejection in the state store, like :func:`ingest`.
    """
    from harmonize.state.store import StateStore

    settings.workspace.mkdir(parents=True, exist_ok=True)
    result = reject(settings, submission_id, exc, None, FindingCollector())
    StateStore(settings.registry).set_status(
        submission_id,
        manifest_sha256,
        "rejected",
        report_path=result.report_location,
        detail=str(exc)[:2000],
    )
    return result


def _fallback_id(source: Path) -> str:
    from harmonize.submission.manifest import sha256_bytes

    return "unreceived-" + sha256_bytes(str(source.absolute()).encode())[:12]


def _process(
    submission: Submission,
    settings: Settings,
    stores: Stores,
    progress: Progress | None,
    before_commit: Callable[[Path], None] | None = None,
) -> IngestResult:
    from harmonize.publish.stage import Stage

    sid = submission.id
    stores.state.set_status(sid, submission.manifest_sha256, "processing")
    findings = FindingCollector()
    with staging(submission, settings, stores) as stage_root:
        if stage_root is None:
            return concurrently_published(submission, settings, stores)
        stage = Stage(stage_root, sid)
        try:
            run = _harmonize(submission, settings, stage, findings, progress)
        except TerminalError as exc:
            stage.abort()
            return reject(settings, sid, exc, submission, findings, state=stores.state)
        except BaseException:
            stage.abort()
            failed(submission, stores)
            raise
        return finish(submission, settings, stores, stage, run, findings, before_commit)


@contextmanager
def staging(submission: Submission, settings: Settings, stores: Stores) -> Iterator[Path | None]:
    """Hold the submission's staging directory, emptied; ``None`` if it got committed meanwhile.

    A concurrent run of the same version (a redelivered event) may have committed while
    this one waited for the lock, and removed the staging directory.
    """
    from harmonize.publish.commit import staging_lock
    from harmonize.publish.versions import published_version

    stage_root = settings.staging_dir / submission.id
    with staging_lock(stage_root):
        stage_root.mkdir(parents=True, exist_ok=True)
        if published_version(submission, settings, stores.registry) is not None:
            yield None
            return
        for leftover in stage_root.iterdir():
            if leftover.name != ".lock":
                shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
        yield stage_root


def concurrently_published(
    submission: Submission, settings: Settings, stores: Stores
) -> IngestResult:
    """The outcome when a concurrent run of the same version committed first."""
    from harmonize.publish.versions import published_version

    published = published_version(submission, settings, stores.registry)
    assert published is not None, "staging() saw this version committed"
    version, committed, _ = published
    stores.state.set_status(
        submission.id,
        submission.manifest_sha256,
        "published",
        bundle_id=committed,
        detail="committed by a concurrent run",
    )
    return IngestResult(
        "already-published",
        submission.id,
        bundle_id=committed,
        version=version,
        message=f"submission {submission.id} is already published (version {version})",
    )


def failed(submission: Submission, stores: Stores) -> None:
    """Record that a transient error stopped the run (it is retried)."""
    stores.state.set_status(
        submission.id,
        submission.manifest_sha256,
        "failed",
        detail="a transient error stopped the run; retry",
    )


def finish(
    submission: Submission,
    settings: Settings,
    stores: Stores,
    stage: Stage,
    run: Run,
    findings: FindingCollector,
    before_commit: Callable[[Path], None] | None = None,
) -> IngestResult:
    """The publish stage: write the report, then reject, or commit what is staged atomically."""
    sid = submission.id
    state = stores.state
    if not run.counts.get("individuals"):
        withdrawn = findings.category_count("withdrawn-subject")
        findings.add(
            "error",
            "empty-submission",
            "every individual of the submission was withdrawn from the dataset"
            if withdrawn
            else "no individuals were found in the submission",
            "pipeline",
            hint="nothing is left to publish"
            if withdrawn
            else "check that the files hold data rows",
        )
    report = run.report
    report.add(findings.findings())
    report.stats = run.counts
    holds_withdrawn = findings.category_count("withdrawn-subject") > 0
    if holds_withdrawn:
        findings.add(
            "warning",
            "inputs-withheld",
            "the input files hold an individual withdrawn from the dataset: they are not "
            "published with this version (the tables and Phenopackets leave them out)",
            "withdrawals",
            hint="nothing to do; send a version without the withdrawn individual to publish "
            "its inputs",
        )
    rejected = any(findings.count(level) for level in settings.reject_on)  # type: ignore[arg-type]
    report.status = "rejected" if rejected else "published"
    saved = save_report(report, settings)
    json_path, html_path = saved.json_path, saved.html_path
    if rejected:
        stage.abort()
        state.set_status(
            sid,
            submission.manifest_sha256,
            "rejected",
            report_path=saved.uri,
            stats=run.counts,
            detail=f"{findings.count('error')} errors",
        )
        return IngestResult(
            "rejected",
            sid,
            json_path,
            html_path,
            counts=run.counts,
            findings=report.counts(),
            message=f"{findings.count('error')} errors, {findings.count('warning')} warnings",
            report_uri=saved.uri,
        )
    from harmonize.publish.commit import commit_staged

    counts = stage.close()
    journal = commit_staged(
        submission,
        settings,
        stores,
        stage,
        counts,
        saved,
        before_commit,
        inputs=not holds_withdrawn,
    )
    return IngestResult(
        "published",
        sid,
        json_path,
        html_path,
        bundle_id=journal["bundle"]["id"],
        counts=counts,
        findings=report.counts(),
        message=f"published {counts.get('individuals', 0)} individuals as version "
        f"{journal['version']}",
        objects=journal["objects"],
        version=journal["version"],
        report_uri=saved.uri,
    )


def _harmonize(
    submission: Submission,
    settings: Settings,
    stage: Stage,
    findings: FindingCollector,
    progress: Progress | None,
) -> Run:
    from harmonize.consent.rows import own_consent
    from harmonize.publish.stage import subjects_of

    work = Harmonizer(submission, settings, findings)
    counts: dict[str, int] = {}
    for file in submission.files:
        for batch in work.read(file):
            mapped = work.check(batch)
            del batch  # the raw rows: not read again
            stage.write_tables(mapped.tables)
            individuals = mapped.tables["individuals"]
            consent, subjects = own_consent(individuals), subjects_of(individuals)
            for docs in work.documents(mapped):  # written a slice at a time, then dropped
                stage.write_documents(docs, consent, subjects)
                del docs
            for name, table in mapped.tables.items():
                counts[name] = counts.get(name, 0) + table.num_rows
            if progress is not None:
                progress(file.name, mapped.tables["individuals"].num_rows)
    return work.result(counts)


def reject(
    settings: Settings,
    sid: str,
    exc: HarmonizeError,
    submission: Submission | None,
    findings: FindingCollector,
    *,
    state: Any = None,
) -> IngestResult:
    """Reject for a terminal error: its finding, the report, the state (with ``state``)."""
    findings.add(
        "error",
        type(exc).__name__,
        exc.message,
        "pipeline",
        hint=exc.hint,
        file=exc.file,
        sheet=exc.sheet,
        row=exc.row,
        column=exc.column,
        value=None if exc.value is None else str(exc.value),
    )
    report = QualityReport(submission_id=sid, status="rejected", validators=["pipeline"])
    report.add(findings.findings())
    saved = save_report(report, settings)
    if state is not None and submission is not None:
        state.set_status(
            sid, submission.manifest_sha256, "rejected", report_path=saved.uri, detail=str(exc)
        )
    return IngestResult(
        "rejected",
        sid,
        saved.json_path,
        saved.html_path,
        findings=report.counts(),
        message=str(exc),
        report_uri=saved.uri,
    )
