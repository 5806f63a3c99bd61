"""Submit: check a submission directory, land its files, record it, then announce it.

The order matters. Files land first (a complete version or nothing), the state store says
``received``, and only then is ``submission.created`` published on ``harmonize.submissions``:
whoever reads the event finds the files. Submitting the same version again lands nothing
new and announces it again; processing is idempotent, so that is safe.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import yaml

from harmonize.errors import SubmissionError
from harmonize.events.bus import EventBus, open_bus
from harmonize.events.envelope import SubmissionCreated, submission_created
from harmonize.events.topics import SUBMISSIONS
from harmonize.intake.landing import LandingStore, LocalLanding, open_landing
from harmonize.settings import Settings
from harmonize.submission.manifest import MANIFEST_NAME, derived_id, parse_manifest
from harmonize.submission.receive import Submission, receive

CLI_SOURCE = "urn:harmonize:intake:cli"
# a newer state than "received" is never rolled back by a repeated submit
_KEEP = ("processing", "published")


def landing_for(settings: Settings, url: str | None = None) -> LandingStore:
    return open_landing(url or settings.landing, s3_endpoint_url=settings.s3_endpoint_url)


def completed_manifest(directory: Path, submission: Submission) -> bytes:
    """The manifest to land: as submitted when it lists every sha-256, else with them filled in."""
    raw = (directory / MANIFEST_NAME).read_bytes()
    manifest = submission.manifest
    needs_mapping = manifest.mapping is not None and manifest.mapping_sha256 is None
    if all(f.sha256 for f in manifest.files) and not needs_mapping:
        return raw
    data: dict[str, Any] = yaml.safe_load(raw)
    digests = {f.name: f.sha256 for f in submission.files}
    for entry in data["files"]:
        entry["sha256"] = digests[entry["path"]]
    if needs_mapping:  # a changed mapping is another manifest: landed apart, a new version
        data["mapping_sha256"] = submission.mapping_sha256
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode("utf-8")


def submit(
    directory: Path,
    settings: Settings,
    *,
    bus: EventBus | None = None,
    landing: LandingStore | None = None,
    source: str = CLI_SOURCE,
) -> SubmissionCreated:
    """Land ``directory`` (with ``manifest.yaml``) and emit ``submission.created``.

    Every file is checked first (paths, sizes, sha-256) exactly as processing will check it;
    a bad submission raises :class:`~harmonize.errors.SubmissionError` before anything lands.
    """
    from harmonize.state.store import StateStore

    directory = directory.absolute()
    if not (directory / MANIFEST_NAME).is_file():
        raise SubmissionError(
            "no manifest.yaml in the submission directory",
            file=str(directory),
            hint="add a manifest.yaml listing the files (see the README)",
        )
    checked = receive(
        directory, max_file_bytes=settings.max_file_bytes, max_files=settings.limits.max_files
    )
    manifest_bytes = completed_manifest(directory, checked)
    manifest = parse_manifest(manifest_bytes)
    sha = hashlib.sha256(manifest_bytes).hexdigest()
    sid = manifest.submission_id or derived_id(sha)
    files = [(f.name, f.path) for f in checked.files]
    if checked.mapping_path is not None and manifest.mapping:
        files.append((manifest.mapping, checked.mapping_path))
    store = landing or landing_for(settings)
    uri = store.land(sid, sha, manifest_bytes, files)

    settings.workspace.mkdir(parents=True, exist_ok=True)
    state = StateStore(settings.registry)
    prior = state.get(sid, sha)
    if prior is None or prior["status"] not in _KEEP:
        state.set_status(
            sid,
            sha,
            "received",
            submitter=manifest.submitter,
            dataset=manifest.dataset,
            profile=manifest.profile,
            access=manifest.access,
            detail=f"landed at {uri}"[:2000],
        )
    event = submission_created(sid, uri, sha, source=source)
    owned = bus is None
    active = bus if bus is not None else open_bus(settings.events)
    try:
        active.publish(SUBMISSIONS, event.to_bytes(), key=sid, headers={"ce_type": event.type})
    finally:
        if owned:
            active.close()
    return SubmissionCreated(submission_id=sid, manifest_uri=uri, manifest_sha256=sha)


def fetch_submission(created: SubmissionCreated, settings: Settings) -> Path:
    """A local directory with the landed submission, its manifest's sha-256 verified.

    A local landing directory is used in place; an S3 one is downloaded under
    ``WORKSPACE/incoming/<id>/<sha>``. Each data file's sha-256 is verified later by
    :func:`harmonize.submission.receive.receive`, as for any submission.
    """
    uri = created.manifest_uri
    store: LandingStore = (
        open_landing(f"s3://{uri[5:].split('/', 1)[0]}", s3_endpoint_url=settings.s3_endpoint_url)
        if uri.startswith("s3://")
        else LocalLanding(Path("/"))  # a local manifest URI is read where it lies
    )
    destination = (
        settings.workspace / "incoming" / created.submission_id / created.manifest_sha256
    ).absolute()
    root = store.fetch(uri, destination)
    actual = hashlib.sha256((root / MANIFEST_NAME).read_bytes()).hexdigest()
    if actual != created.manifest_sha256:
        raise SubmissionError(
            f"manifest sha-256 mismatch: the event says {created.manifest_sha256}, "
            f"the landed manifest has {actual}",
            submission_id=created.submission_id,
            file=MANIFEST_NAME,
            hint="the landed files changed after the event was sent: submit again",
        )
    return root
