"""Receive: check a submission's manifest and files before anything is read.

Refuses path traversal, symlinks that leave the submission, missing files, files over
the size limit, more files than ``limits.max_files`` (a listed directory's files count
one by one) and checksum mismatches, each with an error naming the file and what to do.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from harmonize.errors import SubmissionError
from harmonize.settings import Access, Limits
from harmonize.submission.manifest import (
    MANIFEST_NAME,
    Manifest,
    ManifestFile,
    derived_id,
    load_manifest,
    sha256_bytes,
)

_CHUNK = 1 << 20


@dataclass(frozen=True)
class ReceivedFile:
    name: str  # as the manifest names it, relative to the submission
    path: Path  # resolved local path
    size: int
    sha256: str
    sheet: str | None = None
    format: str | None = None


@dataclass(frozen=True)
class Submission:
    """A checked submission: every file present, inside the submission, verified."""

    id: str
    manifest: Manifest
    manifest_sha256: str
    root: Path
    files: tuple[ReceivedFile, ...]
    mapping_path: Path | None = None

    @property
    def version_key(self) -> str:
        """Identity for idempotency: the id plus the manifest's sha-256."""
        return f"{self.id}@{self.manifest_sha256}"

    @property
    def mapping_sha256(self) -> str | None:
        return file_sha256(self.mapping_path) if self.mapping_path is not None else None

    def identity(self, ontologies_sha256: str) -> dict[str, str | None]:
        """Everything that shapes this submission's output: the manifest, the data files,
        the mapping file, the profile and the pinned ontology releases (their manifest's
        sha-256)."""
        return {
            "manifest": self.manifest_sha256,
            # a manifest need not list checksums: the files' own sha-256 count
            "files": ",".join(
                f"{f.name}={f.sha256}" for f in sorted(self.files, key=lambda f: f.name)
            ),
            "mapping": self.mapping_sha256,
            "profile": self.manifest.profile,
            "ontologies": ontologies_sha256,
        }

    def version_sha256(self, ontologies_sha256: str) -> str:
        """The sha-256 of :meth:`identity`: equal for a replay, new for a changed version."""
        text = ";".join(
            f"{k}={v or ''}" for k, v in sorted(self.identity(ontologies_sha256).items())
        )
        return sha256_bytes(text.encode())


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def safe_member(root: Path, name: str, *, what: str = "file") -> Path:
    """Resolve ``name`` inside ``root``; refuse absolute paths, ``..`` and symlinks leaving it."""
    pure = PurePosixPath(name.replace("\\", "/"))
    if not name or pure.is_absolute() or ".." in pure.parts or ":" in pure.parts[0]:
        raise SubmissionError(
            f"{what} path {name!r} leaves the submission directory",
            file=name,
            hint="name files relative to the submission directory, without '..' or a leading '/'",
        )
    candidate = root.joinpath(*pure.parts)
    resolved = candidate.resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise SubmissionError(
            f"{what} {name!r} is a symbolic link pointing outside the submission",
            file=name,
            hint="copy the file into the submission directory instead of linking to it",
        )
    return resolved


class _FileCount:
    """Counts a submission's files against ``max_files`` as they are found."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0

    def add(self, name: str, count: int = 1) -> None:
        self.count += count
        if self.count > self.limit:
            raise SubmissionError(
                f"the submission has more than {self.limit:,} files (limits.max_files)",
                file=name,
                hint="split it into several submissions, or ask the data centre to raise "
                "limits.max_files (HARMONIZE_LIMIT_MAX_FILES)",
            )


def _check_file(root: Path, entry: ManifestFile, max_bytes: int, files: _FileCount) -> ReceivedFile:
    path = safe_member(root, entry.path)
    if not path.exists():
        raise SubmissionError(
            "file listed in the manifest is missing",
            file=entry.path,
            hint="upload the file or remove it from the manifest",
        )
    if not path.is_file() and not path.is_dir():
        raise SubmissionError("not a regular file", file=entry.path, hint="submit regular files")
    size = _size(path, entry.path, files)
    if size > max_bytes:
        raise SubmissionError(
            f"file is {size:,} bytes, over the limit of {max_bytes:,} bytes",
            file=entry.path,
            hint="split the file into smaller submissions or ask the data centre to raise the limit",
        )
    if size == 0:
        raise SubmissionError("file is empty", file=entry.path, hint="upload the complete file")
    digest = file_sha256(path) if path.is_file() else _dir_sha256(path)
    if entry.sha256 is not None and digest != entry.sha256:
        raise SubmissionError(
            f"sha-256 mismatch: manifest says {entry.sha256}, file has {digest}",
            file=entry.path,
            hint="the upload is damaged or the manifest is stale: re-upload the file or fix its sha256",
        )
    return ReceivedFile(entry.path, path, size, digest, entry.sheet, entry.format)


def _size(path: Path, name: str, files: _FileCount) -> int:
    if not path.is_dir():
        files.add(name)
        return path.stat().st_size
    total = 0
    for member in path.rglob("*"):
        if member.is_file():
            files.add(f"{name.rstrip('/')}/{member.relative_to(path).as_posix()}")
            total += member.stat().st_size
    return total


def _dir_sha256(path: Path) -> str:
    """A directory of documents (e.g. phenopackets): hash over sorted names and contents."""
    h = hashlib.sha256()
    for p in sorted(q for q in path.rglob("*") if q.is_file()):
        rel = p.relative_to(path).as_posix()
        h.update(rel.encode() + b"\0" + file_sha256(p).encode() + b"\n")
    return h.hexdigest()


def receive(
    source: Path,
    *,
    profile: str | None = None,
    max_file_bytes: int,
    mapping: Path | None = None,
    access: Access = "controlled",
    max_files: int = Limits().max_files,
) -> Submission:
    """Check a submission directory (with ``manifest.yaml``) or a single data file.

    ``profile`` overrides the manifest's profile; it is required for a single file.
    ``access`` is the synthesized manifest's access, for a single file only: a written
    manifest must say its own. ``max_files`` bounds the data files (``Settings.limits``).
    """
    files_seen = _FileCount(max_files)
    source = source.absolute()
    if not source.exists():
        raise SubmissionError(
            "submission not found", file=str(source), hint="check the path you gave"
        )
    if source.is_dir() and (source / "manifest.yaml").exists():
        manifest, manifest_sha = load_manifest(source)
        if profile:
            manifest = manifest.model_copy(update={"profile": profile})
        root = source
        if len(manifest.files) > max_files:
            files_seen.add(MANIFEST_NAME, len(manifest.files))
        files = tuple(_check_file(root, f, max_file_bytes, files_seen) for f in manifest.files)
        mapping_path = (
            safe_member(root, manifest.mapping, what="mapping") if manifest.mapping else None
        )
    else:
        if not profile:
            raise SubmissionError(
                "a single data file needs --profile",
                file=source.name,
                hint="pass --profile hpo-case-template | tabular | phenopacket, or submit a directory with manifest.yaml",
            )
        root = source.parent
        entry = ManifestFile(path=source.name)
        received = _check_file(root, entry, max_file_bytes, files_seen)
        files = (received,)
        manifest = Manifest(
            profile=profile,
            access=access,
            files=[ManifestFile(path=source.name, sha256=received.sha256)],
            mapping=mapping.name if mapping else None,
        )
        manifest_sha = sha256_bytes(manifest.canonical_bytes())
        mapping_path = mapping.absolute() if mapping else None
    if mapping is not None and source.is_dir():
        mapping_path = mapping.absolute()
    if mapping_path is not None and not mapping_path.is_file():
        raise SubmissionError(
            "mapping file not found", file=str(mapping_path), hint="check the mapping path"
        )
    expected = manifest.mapping_sha256
    if expected is not None and mapping_path is not None and mapping is None:
        actual = file_sha256(mapping_path)
        if actual != expected:
            raise SubmissionError(
                f"the mapping's sha-256 is {actual}, the manifest says {expected}",
                file="manifest.yaml",
                column="mapping_sha256",
                hint="the mapping changed after the manifest was written: update "
                "mapping_sha256, or remove it",
            )
    sid = manifest.submission_id or derived_id(manifest_sha)
    return Submission(sid, manifest, manifest_sha, root, files, mapping_path)
