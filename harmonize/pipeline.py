"""Run a submission through every stage without Airflow: the CLI's ``harmonize ingest``.

receive -> read -> check-raw -> harmonize -> check -> publish (stage, commit, register).
Each stage is a plain function of its own module; this module only orders them and
turns a terminal error into a rejected submission with a report.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from harmonize.errors import AlreadyPublished, HarmonizeError, SubmissionError, TerminalError
from harmonize.quality.collect import FindingCollector
from harmonize.quality.findings import QualityReport
from harmonize.settings import Settings
from harmonize.submission.receive import Submission, receive

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
    from harmonize.drs.ids import bundle_id
    from harmonize.drs.registry import Registry
    from harmonize.publish.commit import recover
    from harmonize.state.store import StateStore

    settings.workspace.mkdir(parents=True, exist_ok=True)
    registry = Registry(settings.registry)
    registry.create_all()
    state = StateStore(settings.registry)
    recover(settings.workspace, registry, state)
    try:
        submission = receive(
            source, profile=profile, max_file_bytes=settings.max_file_bytes, mapping=mapping
        )
    except SubmissionError as exc:
        sid = _fallback_id(source)
        return _reject(settings, sid, exc, None, FindingCollector())
    prior = state.get(submission.id, submission.manifest_sha256)
    bundle = bundle_id(submission.id, submission.manifest_sha256)
    if registry.has_bundle(bundle) and not (prior and prior["status"] == "published"):
        # the registry is the truth: a commit finished but its state update was lost
        state.set_status(
            submission.id,
            submission.manifest_sha256,
            "published",
            bundle_id=bundle,
            detail="found committed in the registry",
        )
        prior = state.get(submission.id, submission.manifest_sha256)
    if prior and prior["status"] == "published":
        return IngestResult(
            "already-published",
            submission.id,
            bundle_id=prior["bundle_id"],
            report_json=Path(prior["report_path"]) if prior["report_path"] else None,
            message=f"submission {submission.id} is already published",
            counts=dict(prior["stats"] or {}),
        )
    others = [
        v
        for v in state.versions(submission.id)
        if v["status"] == "published" and v["manifest_sha256"] != submission.manifest_sha256
    ]
    if others:
        conflict = AlreadyPublished(
            f"submission id {submission.id!r} was already published with different content",
            submission_id=submission.id,
            hint="submit changed data under a new submission id",
        )
        return _reject(
            settings, submission.id, conflict, submission, FindingCollector(), state=state
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
    return _process(submission, settings, registry, state, progress, before_commit)


def reject_unreceived(
    settings: Settings, submission_id: str, manifest_sha256: str, exc: HarmonizeError
) -> IngestResult:
    """Reject a submission that could not even be received (fetch failed, bad manifest).

    Writes the report and records the rejection in the state store, like :func:`ingest`.
    """
    from harmonize.state.store import StateStore

    settings.workspace.mkdir(parents=True, exist_ok=True)
    result = _reject(settings, submission_id, exc, None, FindingCollector())
    StateStore(settings.registry).set_status(
        submission_id,
        manifest_sha256,
        "rejected",
        report_path=str(result.report_json),
        detail=str(exc)[:2000],
    )
    return result


def _fallback_id(source: Path) -> str:
    from harmonize.submission.manifest import sha256_bytes

    return "unreceived-" + sha256_bytes(str(source.absolute()).encode())[:12]


def _process(
    submission: Submission,
    settings: Settings,
    registry: Any,
    state: Any,
    progress: Progress | None,
    before_commit: Callable[[Path], None] | None = None,
) -> IngestResult:
    from harmonize.drs.ids import bundle_id
    from harmonize.publish.commit import apply_journal, staging_lock, write_journal
    from harmonize.publish.stage import Stage

    sid = submission.id
    state.set_status(sid, submission.manifest_sha256, "processing")
    findings = FindingCollector()
    stage_root = settings.staging_dir / sid
    with staging_lock(stage_root):
        # a concurrent run of the same version (a redelivered event) may have committed
        # while this one waited for the lock, and removed the staging directory
        stage_root.mkdir(parents=True, exist_ok=True)
        committed = bundle_id(sid, submission.manifest_sha256)
        if registry.has_bundle(committed):
            state.set_status(
                sid,
                submission.manifest_sha256,
                "published",
                bundle_id=committed,
                detail="committed by a concurrent run",
            )
            return IngestResult(
                "already-published",
                sid,
                bundle_id=committed,
                message=f"submission {sid} is already published",
            )
        for leftover in stage_root.iterdir():
            if leftover.name != ".lock":
                shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
        stage = Stage(stage_root, sid)
        try:
            run = _harmonize(submission, settings, stage, findings, progress)
        except TerminalError as exc:
            stage.abort()
            return _reject(settings, sid, exc, submission, findings, state=state)
        except BaseException:
            stage.abort()
            state.set_status(
                sid,
                submission.manifest_sha256,
                "failed",
                detail="a transient error stopped the run; retry",
            )
            raise
        report = run.report
        rejected = any(findings.count(level) for level in settings.reject_on)  # type: ignore[arg-type]
        report.status = "rejected" if rejected else "published"
        json_path, html_path = _write_report(settings, report)
        if rejected:
            stage.abort()
            state.set_status(
                sid,
                submission.manifest_sha256,
                "rejected",
                report_path=str(json_path),
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
            )
        counts = stage.close()
        for f in submission.files:
            stage.add_input(f.path, f.name)
        stage.add_report(json_path, html_path)
        stage.seal()
        manifest = submission.manifest
        journal = write_journal(
            stage_root,
            submission_id=sid,
            manifest_sha256=submission.manifest_sha256,
            dataset=manifest.dataset,
            access=manifest.access,
            description=f"{manifest.dataset} submission {sid} by {manifest.submitter} "
            f"({manifest.profile})",
        )
        state.set_status(
            sid,
            submission.manifest_sha256,
            "processing",
            report_path=str(json_path),
            stats=counts,
            detail="committing",
        )
        if before_commit is not None:
            before_commit(stage_root)
        journal = apply_journal(stage_root, settings.workspace, registry, state)
    return IngestResult(
        "published",
        sid,
        json_path,
        html_path,
        bundle_id=journal["bundle"]["id"],
        counts=counts,
        findings=report.counts(),
        message=f"published {counts.get('individuals', 0)} individuals",
        objects=journal["objects"],
    )


@dataclass
class _Run:
    report: QualityReport
    counts: dict[str, int]


def _harmonize(
    submission: Submission,
    settings: Settings,
    stage: Any,
    findings: FindingCollector,
    progress: Progress | None,
) -> _Run:
    from harmonize.mapping.phenopackets import build_documents
    from harmonize.mapping.profiles import MappingContext, get_profile
    from harmonize.mapping.resolver import Resolver
    from harmonize.ontology import Ontologies
    from harmonize.quality import checks
    from harmonize.readers import reader_for
    from harmonize.state.review import ReviewStore

    ontologies = Ontologies.load(settings.ontologies_dir, settings.cache_dir)
    profile = get_profile(submission.manifest.profile)
    ctx = MappingContext(
        submission.id, ontologies, settings, findings, config_path=submission.mapping_path
    )
    ctx.resolver = Resolver(
        ontologies=ontologies,
        settings=settings,
        findings=findings,
        mappings=ctx.mappings,
        dataset=submission.manifest.dataset,
        submission_id=submission.id,
        store=ReviewStore(settings.registry),
    )
    profile.configure(ctx)
    report = QualityReport(submission_id=submission.id)
    checker = checks.Checker(settings, ontologies, findings, report, profile, ctx)
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    counts: dict[str, int] = {}
    for file in submission.files:
        reader = reader_for(file.path, prefer=file.format)
        base = profile.read_options(ctx)
        options = replace(base, label=file.name, sheet=file.sheet)
        for batch in reader.read(file.path, options):
            checker.raw(batch)
            mapped = profile.map_batch(batch, ctx)
            mapped = checker.harmonized(mapped)
            docs = mapped.documents
            if docs is None:
                docs = build_documents(
                    mapped.tables,
                    created=created,
                    created_by=settings.created_by,
                    resource=checker.resource,
                )
            stage.write_tables(mapped.tables)
            stage.write_documents(docs)
            for name, table in mapped.tables.items():
                counts[name] = counts.get(name, 0) + table.num_rows
            if progress is not None:
                progress(file.name, mapped.tables["individuals"].num_rows)
    if not counts.get("individuals"):
        findings.add(
            "error",
            "empty-submission",
            "no individuals were found in the submission",
            "pipeline",
            hint="check that the files hold data rows",
        )
    report.add(findings.findings())
    report.stats = counts
    report.mappings = ctx.mappings
    return _Run(report, counts)


def _write_report(settings: Settings, report: QualityReport) -> tuple[Path, Path]:
    from harmonize.quality.html import write_report

    return write_report(report, settings.reports_dir / report.submission_id)


def _reject(
    settings: Settings,
    sid: str,
    exc: HarmonizeError,
    submission: Submission | None,
    findings: FindingCollector,
    *,
    state: Any = None,
) -> IngestResult:
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
    json_path, html_path = _write_report(settings, report)
    if state is not None and submission is not None:
        state.set_status(
            sid, submission.manifest_sha256, "rejected", report_path=str(json_path), detail=str(exc)
        )
    return IngestResult(
        "rejected", sid, json_path, html_path, findings=report.counts(), message=str(exc)
    )
