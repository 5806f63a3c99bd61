"""Turn a multipart upload into a submission directory, refusing anything unsafe on the way.

Every part is checked before anything is landed or announced: the manifest parses, every
file it lists has a sha-256, every file part's name stays inside the submission, no part is
over the size limit, and nothing arrives that the manifest does not list. The sha-256 of
each file is then checked by :func:`harmonize.submission.receive.receive`, as for any
submission.

>>> safe_name("tables/cases.csv")
'tables/cases.csv'
>>> try:
...     safe_name("../etc/passwd")
... except UploadRefused as exc:
...     print(exc.status_code, exc.message)
422 file name leaves the submission
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path, PurePosixPath
from typing import Any

from harmonize.errors import SubmissionError
from harmonize.intake.config import IntakeSettings
from harmonize.submission.manifest import MANIFEST_NAME, Manifest, parse_manifest

_CHUNK = 1 << 20
_BAD_CHARS = re.compile(r"[\x00-\x1f\x7f\\:]")


class UploadRefused(SubmissionError):
    """The upload is unusable; ``status_code`` is the HTTP answer (413 or 422)."""

    def __init__(self, message: str, *, status_code: int = 422, **evidence: Any) -> None:
        super().__init__(message, **evidence)
        self.status_code = status_code


def safe_name(name: str) -> str:
    """A file part's name as a relative POSIX path inside the submission, or refused."""
    pure = PurePosixPath(name)
    if (
        not name
        or _BAD_CHARS.search(name)
        or pure.is_absolute()
        or any(part in ("..", ".", "") for part in name.split("/"))
    ):
        raise UploadRefused(
            "file name leaves the submission",
            file=name,
            hint="name files relative to the submission, without '..', '\\' or a leading '/'",
        )
    return pure.as_posix()


def _listed(name: str, manifest: Manifest) -> bool:
    """Is ``name`` a file the manifest lists, inside a listed directory, or the mapping?"""
    for entry in [f.path for f in manifest.files] + (
        [manifest.mapping] if manifest.mapping else []
    ):
        entry = entry.rstrip("/")
        if name == entry or name.startswith(entry + "/"):
            return True
    return False


async def _save(part: Any, target: Path, limit: int, name: str) -> int:
    """Stream one upload part to ``target``; its size, refused past ``limit``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    with target.open("wb") as out:
        while chunk := await part.read(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise UploadRefused(
                    f"file is over the limit of {limit:,} bytes",
                    status_code=413,
                    file=name,
                    hint="split the submission or ask the data centre to raise the limit",
                )
            out.write(chunk)
    return size


async def stage(form: Any, directory: Path, limits: IntakeSettings) -> tuple[Manifest, str]:
    """Write the form's ``manifest`` and ``files`` parts into ``directory``.

    Returns the parsed manifest and its sha-256. Raises :class:`UploadRefused`.
    """
    manifest_part = form.get("manifest")
    if manifest_part is None or isinstance(manifest_part, str):
        raise UploadRefused("no manifest part", hint="send the manifest as a file part 'manifest'")
    raw = await manifest_part.read(limits.max_manifest_bytes + 1)
    if len(raw) > limits.max_manifest_bytes:
        raise UploadRefused(
            f"manifest is over {limits.max_manifest_bytes:,} bytes",
            status_code=413,
            file=MANIFEST_NAME,
        )
    manifest = parse_manifest(raw)
    unhashed = [f.path for f in manifest.files if not f.sha256]
    if unhashed:
        raise UploadRefused(
            "the manifest must give the sha256 of every uploaded file",
            file=unhashed[0],
            hint="add sha256: <hex digest> to each file entry",
        )
    parts = [p for p in form.getlist("files") if not isinstance(p, str)]
    if not parts:
        raise UploadRefused("no file parts", hint="send each data file as a file part 'files'")
    if len(parts) > limits.max_files:
        raise UploadRefused(f"more than {limits.max_files:,} files", status_code=413)
    seen: set[str] = set()
    for part in parts:
        name = safe_name(part.filename or "")
        if name == MANIFEST_NAME or name in seen:
            raise UploadRefused("file sent twice (or named like the manifest)", file=name)
        if not _listed(name, manifest):
            raise UploadRefused(
                "file is not listed in the manifest", file=name, hint="list it, or leave it out"
            )
        seen.add(name)
        await _save(
            part, directory.joinpath(*PurePosixPath(name).parts), limits.max_file_bytes, name
        )
    (directory / MANIFEST_NAME).write_bytes(raw)
    return manifest, hashlib.sha256(raw).hexdigest()
