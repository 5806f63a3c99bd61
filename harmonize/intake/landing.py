"""The landing store: where submitted files wait for processing (a local directory or S3).

Each submission version lands under ``<submission id>/<manifest sha-256>/``: its manifest
and its files, at the paths the manifest names. A landed version never changes, so landing
the same version again is a no-op, and the manifest is written last (on S3) or the whole
version appears at once (a directory rename), so a reader never sees half a submission.

>>> store = open_landing("/srv/landing")
>>> store.manifest_uri("aire-aps1", "ab" * 32).endswith("aire-aps1/" + "ab" * 32 + "/manifest.yaml")
True
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

from harmonize.errors import ConfigurationError, SubmissionError, TransientError
from harmonize.submission.manifest import MANIFEST_NAME


class LandingUnavailable(TransientError):
    """The landing store cannot be reached or written; a retry may help."""


class LandingStore(Protocol):
    def manifest_uri(self, submission_id: str, manifest_sha256: str) -> str:
        """Where the manifest of this version lands (what the event carries)."""

    def land(
        self,
        submission_id: str,
        manifest_sha256: str,
        manifest: bytes,
        files: Iterable[tuple[str, Path]],
    ) -> str:
        """Copy ``files`` (name in the submission, local path) and the manifest; the manifest URI."""

    def fetch(self, manifest_uri: str, destination: Path) -> Path:
        """A local directory holding the landed version (``destination`` when copied)."""

    def manifests(self, *, min_age_s: float = 0.0) -> Iterator[tuple[str, bytes]]:
        """(manifest URI, bytes) of every complete landed version older than ``min_age_s``.

        The URI is the one :meth:`fetch` reads. Young manifests are skipped: their upload
        (and event) may still be under way.
        """

    def forget(self, submission_id: str) -> int:
        """Delete every landed version of a submission (a withdrawal's erasure); the count."""
        ...


def _version_key(submission_id: str, manifest_sha256: str) -> str:
    return f"{submission_id}/{manifest_sha256}"


def _members(files: Iterable[tuple[str, Path]]) -> Iterable[tuple[str, Path]]:
    """Every regular file to copy, directories expanded (name relative to the submission)."""
    for name, path in files:
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                yield f"{name.rstrip('/')}/{child.relative_to(path).as_posix()}", child
        else:
            yield name, path


class LocalLanding:
    """A landing directory on a local or mounted file system."""

    def __init__(self, root: Path) -> None:
        self.root = root.absolute()

    def manifest_uri(self, submission_id: str, manifest_sha256: str) -> str:
        return str(self.root / _version_key(submission_id, manifest_sha256) / MANIFEST_NAME)

    def land(
        self,
        submission_id: str,
        manifest_sha256: str,
        manifest: bytes,
        files: Iterable[tuple[str, Path]],
    ) -> str:
        final = self.root / _version_key(submission_id, manifest_sha256)
        uri = self.manifest_uri(submission_id, manifest_sha256)
        if (final / MANIFEST_NAME).is_file():
            return uri  # this exact version landed before
        tmp = self.root / f".incoming-{uuid.uuid4().hex}"
        try:
            for name, path in _members(files):
                target = tmp.joinpath(*PurePosixPath(name).parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
            tmp.mkdir(parents=True, exist_ok=True)
            (tmp / MANIFEST_NAME).write_bytes(manifest)
            final.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(tmp, final)
            except OSError:
                if not (final / MANIFEST_NAME).is_file():
                    raise
                shutil.rmtree(tmp)  # landed concurrently by someone else
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise LandingUnavailable(f"cannot write to the landing directory: {exc}") from exc
        return uri

    def fetch(self, manifest_uri: str, destination: Path) -> Path:
        path = Path(_local_path(manifest_uri))
        if not path.is_file():
            raise SubmissionError(
                "manifest not found in the landing store",
                file=manifest_uri,
                hint="submit again: harmonize submit DIR",
            )
        return path.parent

    def manifests(self, *, min_age_s: float = 0.0) -> Iterator[tuple[str, bytes]]:
        if not self.root.is_dir():
            return
        now = time.time()
        for path in sorted(self.root.rglob(MANIFEST_NAME)):
            if any(part.startswith(".") for part in path.relative_to(self.root).parts):
                continue  # an upload still being written (.incoming-*)
            if now - path.stat().st_mtime < min_age_s:
                continue
            yield str(path.resolve()), path.read_bytes()

    def forget(self, submission_id: str) -> int:
        folder = self.root / submission_id
        if not folder.is_dir():
            return 0
        count = sum(1 for p in folder.rglob("*") if p.is_file())
        shutil.rmtree(folder)
        return count


class S3Landing:
    """A landing prefix in an S3 bucket (boto3); any S3-compatible endpoint works."""

    def __init__(self, bucket: str, prefix: str, *, client: Any) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client

    def _key(self, *parts: str) -> str:
        return "/".join(p for p in (self.prefix, *parts) if p)

    def manifest_uri(self, submission_id: str, manifest_sha256: str) -> str:
        key = self._key(_version_key(submission_id, manifest_sha256), MANIFEST_NAME)
        return f"s3://{self.bucket}/{key}"

    def land(
        self,
        submission_id: str,
        manifest_sha256: str,
        manifest: bytes,
        files: Iterable[tuple[str, Path]],
    ) -> str:
        base = _version_key(submission_id, manifest_sha256)
        with _s3_errors(f"s3://{self.bucket}/{self._key(base)}"):
            for name, path in _members(files):
                self.client.upload_file(str(path), self.bucket, self._key(base, name))
            self.client.put_object(
                Bucket=self.bucket, Key=self._key(base, MANIFEST_NAME), Body=manifest
            )  # last: its presence means the version is complete
        return self.manifest_uri(submission_id, manifest_sha256)

    def fetch(self, manifest_uri: str, destination: Path) -> Path:
        bucket, key = _split_s3(manifest_uri)
        prefix = key[: -len(MANIFEST_NAME)]
        if not key.endswith("/" + MANIFEST_NAME) and key != MANIFEST_NAME:
            raise SubmissionError(f"not a manifest URI: {manifest_uri}", file=manifest_uri)
        tmp = destination.with_name(f".{destination.name}.{uuid.uuid4().hex}")
        with _s3_errors(manifest_uri):
            paginator = self.client.get_paginator("list_objects_v2")
            keys = [
                obj["Key"]
                for page in paginator.paginate(Bucket=bucket, Prefix=prefix)
                for obj in page.get("Contents", [])
            ]
            if key not in keys:
                raise SubmissionError(
                    "manifest not found in the landing store",
                    file=manifest_uri,
                    hint="submit again: harmonize submit DIR",
                )
            for member in keys:
                rel = PurePosixPath(member[len(prefix) :])
                if ".." in rel.parts or rel.is_absolute():
                    raise SubmissionError(f"unsafe object key {member!r}", file=member)
                target = tmp.joinpath(*rel.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                self.client.download_file(bucket, member, str(target))
        if destination.exists():
            shutil.rmtree(destination)
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.rename(tmp, destination)
        return destination

    def manifests(self, *, min_age_s: float = 0.0) -> Iterator[tuple[str, bytes]]:
        """Only ``<prefix>/<id>/<sha-256>/manifest.yaml`` marks a complete version.

        :meth:`land` uploads the files first, so a ``manifest.yaml`` among a version's own
        files must not count. Age is by LastModified.
        """
        base = f"{self.prefix}/" if self.prefix else ""
        now = datetime.now(UTC)
        candidates: list[str] = []
        with _s3_errors(f"s3://{self.bucket}/{base}"):
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=base):
                for obj in page.get("Contents", []):
                    parts = obj["Key"][len(base) :].split("/")
                    if len(parts) != 3 or parts[2] != MANIFEST_NAME or not all(parts):
                        continue
                    if (now - obj["LastModified"]).total_seconds() < min_age_s:
                        continue
                    candidates.append(obj["Key"])
        for key in sorted(candidates):
            uri = f"s3://{self.bucket}/{key}"
            try:
                with _s3_errors(uri):
                    raw = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            except SubmissionError:
                continue  # deleted since it was listed
            yield uri, raw

    def forget(self, submission_id: str) -> int:
        prefix = self._key(submission_id) + "/"
        with _s3_errors(f"s3://{self.bucket}/{prefix}"):
            paginator = self.client.get_paginator("list_objects_v2")
            keys = [
                obj["Key"]
                for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix)
                for obj in page.get("Contents", [])
            ]
            for start in range(0, len(keys), 1000):
                chunk = [{"Key": k} for k in keys[start : start + 1000]]
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": chunk})
        return len(keys)


@contextmanager
def _s3_errors(where: str) -> Iterator[None]:
    """Map botocore failures: unreachable or throttled is transient, missing is terminal."""
    try:
        yield
    except (SubmissionError, ConfigurationError):
        raise
    except Exception as exc:
        from botocore.exceptions import BotoCoreError, ClientError

        cause: BaseException | None = exc  # boto3's transfer manager wraps the ClientError
        while cause is not None and not isinstance(cause, ClientError):
            cause = cause.__cause__ or cause.__context__
        if isinstance(cause, ClientError):
            exc = cause
            code = str(exc.response.get("Error", {}).get("Code", ""))
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
            if code in ("NoSuchBucket", "AccessDenied", "InvalidAccessKeyId", "403"):
                raise ConfigurationError(
                    f"landing store {where}: {code}", hint="check the bucket and credentials"
                ) from exc
            if code in ("NoSuchKey", "404") or status == 404:
                raise SubmissionError(
                    "not found in the landing store", file=where, hint="submit again"
                ) from exc
            raise LandingUnavailable(f"landing store {where}: {exc}") from exc
        if isinstance(exc, BotoCoreError | OSError):
            raise LandingUnavailable(f"landing store {where} unreachable: {exc}") from exc
        raise


def _split_s3(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ConfigurationError(f"not an s3:// URI: {uri!r}", hint="use s3://bucket/prefix")
    return parsed.netloc, parsed.path.lstrip("/")


def _local_path(uri: str) -> str:
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else uri


def s3_client(endpoint_url: str | None = None) -> Any:
    """A boto3 S3 client (credentials and region from boto3's usual sources)."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=5, read_timeout=60, retries={"max_attempts": 3, "mode": "standard"}
    )
    return boto3.client("s3", endpoint_url=endpoint_url, config=config)


def open_landing(
    url: str, *, s3_endpoint_url: str | None = None, client: Any = None
) -> LandingStore:
    """``s3://bucket/prefix`` -> :class:`S3Landing`; a path or ``file://`` URL -> local."""
    if url.startswith("s3://"):
        bucket, prefix = _split_s3(url)
        return S3Landing(bucket, prefix, client=client or s3_client(s3_endpoint_url))
    if "://" in url and not url.startswith("file://"):
        raise ConfigurationError(
            f"unsupported landing store {url!r}", hint="use a directory or s3://bucket/prefix"
        )
    return LocalLanding(Path(_local_path(url)))
