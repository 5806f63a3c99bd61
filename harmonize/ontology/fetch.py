"""Download a pinned ontology release and check it against the manifest's sha-256.

:func:`fetch_release` streams the release from its ``source`` URL (or a mirror given as
``url``) into a temporary file next to its destination, hashing while it writes. Only
a file whose sha-256 matches the manifest is moved into place (atomically, with
``os.replace``); anything else is deleted and reported as an :class:`OntologyError`
naming the URL, the expected and the actual checksum. A release already on disk with
the right checksum is not downloaded again. A hand-made slice (``slice: true``) is
never downloaded: its ``source`` names the ontology it was cut from.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from harmonize.errors import OntologyError
from harmonize.ontology.manifest import OntologyEntry, file_sha256

_CHUNK = 1 << 20
_SCHEMES = ("http", "https", "file")
_USER_AGENT = "harmonize-ontology-fetch/1"


def release_present(entry: OntologyEntry, ontologies_dir: Path) -> bool:
    """Whether ``entry``'s release file is in ``ontologies_dir`` with the pinned sha-256."""
    if entry.file is None:
        return False
    path = ontologies_dir / entry.file
    return path.is_file() and file_sha256(path) == entry.sha256


def fetch_release(
    entry: OntologyEntry, ontologies_dir: Path, *, url: str | None = None, timeout: float = 60
) -> Path:
    """Download ``entry``'s release into ``ontologies_dir``; return the file's path.

    ``url`` overrides the manifest's ``source`` (a mirror; the checksum still has to
    match). Raises :class:`OntologyError` for an entry without a release file, an
    unsupported URL, an HTTP or network error, or a checksum mismatch; no partial file
    is left behind.
    """
    if entry.file is None or entry.sha256 is None:
        raise OntologyError(
            f"{entry.prefix} is a code system without a release file; nothing to fetch",
            value=entry.prefix,
            hint="only manifest entries with a file can be fetched",
        )
    destination = ontologies_dir / entry.file
    if release_present(entry, ontologies_dir):
        return destination
    if entry.slice:
        raise OntologyError(
            f"{entry.prefix} {entry.version} is a hand-made slice, not an upstream release: "
            f"its source ({entry.source}) is the whole ontology, which cannot match its sha256",
            file=str(destination),
            hint=f"restore {entry.file} from the repository",
        )
    source = url or entry.source
    if not source or urllib.parse.urlsplit(source).scheme not in _SCHEMES:
        raise OntologyError(
            f"{entry.prefix}: cannot fetch from {source!r}",
            value=source,
            hint=f"use a URL with one of the schemes {', '.join(_SCHEMES)}",
        )
    ontologies_dir.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=ontologies_dir, prefix=f".{entry.file}.", suffix=".part")
    os.close(handle)
    temp = Path(name)
    try:
        actual = _download(source, temp, timeout, entry.prefix)
        if actual != entry.sha256:
            raise OntologyError(
                f"{entry.prefix} release downloaded from {source} does not match the "
                f"manifest: expected sha256 {entry.sha256}, got {actual}",
                file=str(destination),
                value=actual,
                hint=(
                    "the source may serve another release; check the URL, or update "
                    "version, source and sha256 in manifest.yaml together"
                ),
            )
        os.replace(temp, destination)
    finally:
        temp.unlink(missing_ok=True)
    return destination


def _download(source: str, temp: Path, timeout: float, prefix: str) -> str:
    """Stream ``source`` into ``temp`` (fsynced); return the sha-256 of what was written."""
    digest = hashlib.sha256()
    request = urllib.request.Request(source, headers={"User-Agent": _USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response, temp.open("wb") as out:
            while chunk := response.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except urllib.error.HTTPError as err:
        raise OntologyError(
            f"could not download the {prefix} release from {source}: HTTP {err.code} {err.reason}",
            value=source,
            hint="check the source URL in manifest.yaml, or pass a mirror with --url",
        ) from err
    except (urllib.error.URLError, OSError) as err:
        reason = err.reason if isinstance(err, urllib.error.URLError) else err
        raise OntologyError(
            f"could not download the {prefix} release from {source}: {reason}",
            value=source,
            hint="check the network connection, or pass a reachable mirror with --url",
        ) from err
    return digest.hexdigest()
