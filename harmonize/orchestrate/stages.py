"""The event-driven stages: receive -> ingest -> announce, passing paths between them.

Each stage takes and returns something JSON-safe (a :class:`Received` as a dict, a path),
so an Airflow task can hand it to the next through XCom without moving data. A run's
files live in ``WORKSPACE/runs/<submission>-<sha12>-<event12>/``: the event, the result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from harmonize.errors import TerminalError
from harmonize.settings import Settings

SOURCE = "urn:harmonize:orchestrate"


@dataclass(frozen=True)
class Received:
    """A submission event that passed its checks, with where its files now are."""

    submission_id: str
    manifest_sha256: str
    event_id: str
    run_dir: str
    source_dir: str | None  # the fetched submission; None when nothing is left to do
    result_file: str | None = None  # set when receive already decided (published, rejected)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Received:
        return cls(**data)


def receive_event(
    raw: bytes,
    settings: Settings,
    bus: Any,
    *,
    origin: dict[str, Any] | None = None,
) -> Received | None:
    """Parse and check an event; dead-letter it (``None``) when malformed.

    A version already published skips the fetch (its result is re-announced). A fetch
    that fails for good (a checksum mismatch) is a rejection with a report. Transient
    failures (the landing store is down) propagate so the caller retries.
    """
    from harmonize.events import SUBMISSIONS, MalformedEvent, created_data, parse_envelope
    from harmonize.events import send_to_dlq as dead_letter

    origin = origin or {}
    try:
        envelope = parse_envelope(raw)
        created = created_data(envelope)
    except MalformedEvent as exc:
        dead_letter(
            bus,
            raw,
            exc.reason,
            key=origin.get("key"),
            source_topic=origin.get("topic") or SUBMISSIONS,
            partition=origin.get("partition"),
            offset=origin.get("offset"),
        )
        return None
    from harmonize.state.store import StateStore

    sid, sha = created.submission_id, created.manifest_sha256
    run_dir = settings.workspace / "runs" / f"{sid}-{sha[:12]}-{envelope.id[:12]}"
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "event.json").write_bytes(raw)
    received = Received(sid, sha, envelope.id, str(run_dir), None)
    state = StateStore(settings.registry)
    prior = state.get(sid, sha)
    if prior and prior["status"] == "published":
        return _decided(received, _result_from_state(prior, settings.registry))
    if prior is None:
        state.set_status(sid, sha, "received", detail=f"event {envelope.id}")
    from harmonize.intake import fetch_submission

    try:
        local = fetch_submission(created, settings)
    except TerminalError as exc:
        from harmonize.pipeline import reject_unreceived

        rejected = reject_unreceived(settings, sid, sha, exc)
        return _decided(received, _result(rejected, sha))
    return Received(sid, sha, envelope.id, str(run_dir), str(local))


def ingest_received(
    received: Received,
    settings: Settings,
    *,
    before_commit: Callable[[Path], None] | None = None,
) -> Path:
    """Run the pipeline on a received submission; the result's path in the run directory."""
    if received.result_file is not None:
        return Path(received.result_file)
    from harmonize.pipeline import ingest

    assert received.source_dir is not None
    outcome = ingest(Path(received.source_dir), settings, before_commit=before_commit)
    if outcome.submission_id != received.submission_id:
        outcome = mismatch(received, outcome.submission_id, settings)
    return finished(received, settings, outcome)


def mismatch(received: Received, manifest_id: str, settings: Settings) -> Any:
    """Reject a submission whose manifest names another id than its event."""
    from harmonize.errors import SubmissionError
    from harmonize.pipeline import reject_unreceived

    exc = SubmissionError(
        f"the event names submission {received.submission_id!r} but its manifest "
        f"says {manifest_id!r}",
        submission_id=received.submission_id,
        hint="submit again with `harmonize submit`",
    )
    return reject_unreceived(settings, received.submission_id, received.manifest_sha256, exc)


def finished(received: Received, settings: Settings, outcome: Any) -> Path:
    """Write an :class:`~harmonize.pipeline.IngestResult` as the run's result file."""
    result = _result(outcome, received.manifest_sha256)
    if outcome.status == "already-published":  # e.g. rolled forward after a crash
        count = _object_count({"bundle_id": outcome.bundle_id}, settings.registry)
        result = result.model_copy(update={"object_count": count})
    return _write_result(Path(received.run_dir), result)


def announce(result_file: Path, bus: Any, *, source: str = SOURCE) -> Any:
    """Emit the result event on ``harmonize.results``; returns the ``SubmissionResult``."""
    from harmonize.events import RESULTS, SubmissionResult, submission_result

    result = SubmissionResult.model_validate_json(Path(result_file).read_bytes())
    envelope = submission_result(result, source=source)
    bus.publish(RESULTS, envelope.to_bytes(), key=result.submission_id)
    return result


def _decided(received: Received, result: Any) -> Received:
    path = _write_result(Path(received.run_dir), result)
    return Received(
        received.submission_id,
        received.manifest_sha256,
        received.event_id,
        received.run_dir,
        None,
        str(path),
    )


def _write_result(run_dir: Path, result: Any) -> Path:
    from harmonize.quality.html import write_text_atomic

    path = run_dir / "result.json"
    write_text_atomic(path, result.model_dump_json(indent=2))
    return path


def _result(outcome: Any, manifest_sha256: str) -> Any:
    from harmonize.events import SubmissionResult

    published = outcome.status in ("published", "already-published")
    return SubmissionResult(
        submission_id=outcome.submission_id,
        manifest_sha256=manifest_sha256,
        status="published" if published else "rejected",
        report_uri=outcome.report_location,
        bundle_id=outcome.bundle_id,
        object_count=outcome.objects,
        reason=None if published else (outcome.message or "rejected"),
        version=outcome.version if published else None,
    )


def _result_from_state(row: dict[str, Any], registry_url: str) -> Any:
    from harmonize.events import SubmissionResult

    return SubmissionResult(
        submission_id=row["id"],
        manifest_sha256=row["manifest_sha256"],
        status="published",
        report_uri=row["report_path"],
        bundle_id=row["bundle_id"],
        object_count=_object_count(row, registry_url),
        reason=None,
        version=_version(row, registry_url),
    )


def _version(row: dict[str, Any], registry_url: str) -> int | None:
    """The version whose bundle the state row names, as the publication ledger has it."""
    from harmonize.drs.registry import Registry
    from harmonize.warehouse import ledger

    if not row["bundle_id"]:
        return None
    with Registry(registry_url).session() as session:
        return ledger.version_of_bundle(session, row["bundle_id"])


def _object_count(row: dict[str, Any], registry_url: str) -> int:
    """Objects in the published bundle, as the DRS registry holds them."""
    from harmonize.drs.registry import Registry

    if not row["bundle_id"]:
        return 0
    registry = Registry(registry_url)
    try:
        return len(registry.bundle_members(row["bundle_id"]))
    finally:
        registry.dispose()
