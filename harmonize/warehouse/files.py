"""Where published files live: the workspace on local disk, or a prefix in an S3 bucket.

Paths are relative and mirror the workspace layout (``published/phenopackets/...``), so a
DRS object's ``path`` means the same file in either store. An S3 store writes every
object whole (a PUT is atomic); nothing is ever renamed there.

>>> store = open_files("s3://bucket/some/prefix")
>>> store.uri("published/tables/individuals")
's3://bucket/some/prefix/published/tables/individuals'
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from harmonize.errors import ConfigurationError, PublishError


class FileStore(Protocol):
    """The operations the warehouse needs on published files."""

    @property
    def is_s3(self) -> bool: ...

    def uri(self, rel: str) -> str:
        """A URI (a local path or ``s3://``) for ``rel``."""
        ...

    def put(self, source: Path, rel: str) -> None:
        """Copy a local file to ``rel``, replacing what is there."""
        ...

    def put_bytes(self, data: bytes, rel: str) -> None: ...

    def move_all(self, items: list[tuple[Path, str]]) -> None:
        """Put each local file to its ``rel`` and remove the local file."""
        ...

    def get_bytes(self, rel: str) -> bytes: ...

    def get(self, rel: str, target: Path) -> None:
        """Copy ``rel`` to the local file ``target`` (streamed, not held in memory)."""
        ...

    def exists(self, rel: str) -> bool: ...

    def digest(self, rel: str) -> tuple[int, str] | None:
        """``rel``'s size and hex sha-256 (read as a stream), or None if there is no file."""
        ...

    def delete(self, rel: str) -> None:
        """Remove ``rel`` if it exists."""
        ...

    def list(self, rel_prefix: str) -> Iterator[str]:
        """Every file under ``rel_prefix`` (relative paths)."""
        ...


class LocalFiles:
    """Files under a local directory (the workspace)."""

    def __init__(self, root: Path) -> None:
        self.root = root.absolute()

    @property
    def is_s3(self) -> bool:
        return False

    def path(self, rel: str) -> Path:
        return self.root / rel

    def uri(self, rel: str) -> str:
        return str(self.path(rel))

    def put(self, source: Path, rel: str) -> None:
        dest = self.path(rel)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if source.resolve() == dest.resolve():
            return
        tmp = dest.with_name(f".{dest.name}.part")
        shutil.copyfile(source, tmp)
        os.replace(tmp, dest)

    def move(self, source: Path, rel: str) -> None:
        """Move a local file into place (a rename on the same disk)."""
        dest = self.path(rel)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(source, dest)
        except OSError:  # another file system
            self.put(source, rel)
            source.unlink()

    def move_all(self, items: list[tuple[Path, str]]) -> None:
        """:meth:`move` each local file to its ``rel``."""
        for source, rel in items:
            self.move(source, rel)

    def put_bytes(self, data: bytes, rel: str) -> None:
        dest = self.path(rel)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.part")
        tmp.write_bytes(data)
        os.replace(tmp, dest)

    def get_bytes(self, rel: str) -> bytes:
        return self.path(rel).read_bytes()

    def get(self, rel: str, target: Path) -> None:
        shutil.copyfile(self.path(rel), target)

    def exists(self, rel: str) -> bool:
        return self.path(rel).is_file()

    def digest(self, rel: str) -> tuple[int, str] | None:
        try:
            return file_digest(self.path(rel))
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def delete(self, rel: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(rel).unlink()

    def list(self, rel_prefix: str) -> Iterator[str]:
        base = self.path(rel_prefix)
        if base.is_file():
            yield rel_prefix
            return
        if not base.is_dir():
            return
        for p in sorted(base.rglob("*")):
            if p.is_file():
                yield p.relative_to(self.root).as_posix()


CHUNK = 1 << 20  # bytes read at a time when hashing a file
PUT_THREADS = 8  # concurrent uploads of one publication (botocore keeps 10 connections)


class S3Files:
    """Objects under ``prefix`` in an S3 bucket (boto3; any S3-compatible endpoint)."""

    def __init__(self, bucket: str, prefix: str, *, endpoint_url: str | None = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.endpoint_url = endpoint_url
        self._client: Any = None

    @property
    def is_s3(self) -> bool:
        return True

    @property
    def client(self) -> Any:
        if self._client is None:
            from harmonize.intake.landing import s3_client

            self._client = s3_client(self.endpoint_url)
        return self._client

    def key(self, rel: str) -> str:
        return f"{self.prefix}/{rel}" if self.prefix else rel

    def uri(self, rel: str) -> str:
        return f"s3://{self.bucket}/{self.key(rel)}"

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(*args, **kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise PublishError(
                f"S3 {what} failed: {exc}", hint="check the bucket and retry"
            ) from exc

    def put(self, source: Path, rel: str) -> None:
        self._call("upload", self.client.upload_file, str(source), self.bucket, self.key(rel))

    def move_all(self, items: list[tuple[Path, str]]) -> None:
        """Put each local file to its ``rel``, then remove the local file; a few requests at a
        time (a publication puts one object per Phenopacket: one by one, 100,000 took most
        of its time). Each file is independent: after a crash, what was put is gone locally
        and what was not is still there to put."""
        from concurrent.futures import ThreadPoolExecutor

        self.client  # noqa: B018 - made once, before the threads share it (boto3 clients are)

        def move(item: tuple[Path, str]) -> None:
            self.put(*item)
            item[0].unlink()

        with ThreadPoolExecutor(PUT_THREADS, thread_name_prefix="s3-put") as pool:
            for _ in pool.map(move, items):
                pass

    def put_bytes(self, data: bytes, rel: str) -> None:
        self._call("put", self.client.put_object, Bucket=self.bucket, Key=self.key(rel), Body=data)

    def get_bytes(self, rel: str) -> bytes:
        response = self._call("get", self.client.get_object, Bucket=self.bucket, Key=self.key(rel))
        data: bytes = response["Body"].read()
        return data

    def get(self, rel: str, target: Path) -> None:
        self._call("download", self.client.download_file, self.bucket, self.key(rel), str(target))

    def exists(self, rel: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(rel))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise PublishError(f"S3 head failed: {exc}", hint="check the bucket and retry") from exc
        return True

    def digest(self, rel: str) -> tuple[int, str] | None:
        """One GET, streamed (no HEAD first: ``harmonize verify`` asks this of every object)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.key(rel))
        except (ClientError, BotoCoreError) as exc:
            code = exc.response.get("Error", {}).get("Code") if isinstance(exc, ClientError) else 0
            if code in ("404", "NoSuchKey", "NotFound"):
                return None
            raise PublishError(f"S3 get failed: {exc}", hint="check the bucket and retry") from exc
        found: tuple[int, str] = self._call("get", _digest, response["Body"].iter_chunks(CHUNK))
        return found

    def delete(self, rel: str) -> None:
        self._call("delete", self.client.delete_object, Bucket=self.bucket, Key=self.key(rel))

    def list(self, rel_prefix: str) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        start = len(self.prefix) + 1 if self.prefix else 0
        for page in self._call(
            "list",
            lambda: list(paginator.paginate(Bucket=self.bucket, Prefix=self.key(rel_prefix))),
        ):
            for item in page.get("Contents", []):
                yield item["Key"][start:]


def _digest(chunks: Iterator[bytes]) -> tuple[int, str]:
    h, size = hashlib.sha256(), 0
    for chunk in chunks:
        h.update(chunk)
        size += len(chunk)
    return size, h.hexdigest()


def file_digest(path: Path) -> tuple[int, str]:
    """A local file's size and hex sha-256, read :data:`CHUNK` bytes at a time."""
    with path.open("rb") as fh:
        return _digest(iter(lambda: fh.read(CHUNK), b""))


def open_files(root: str | Path, *, s3_endpoint_url: str | None = None) -> LocalFiles | S3Files:
    """The store for a local directory or an ``s3://bucket/prefix`` URL."""
    text = str(root)
    if text.startswith("s3://"):
        bucket, _, prefix = text[5:].partition("/")
        if not bucket:
            raise ConfigurationError(
                f"no bucket in {text!r}", hint="write s3://bucket or s3://bucket/prefix"
            )
        return S3Files(bucket, prefix, endpoint_url=s3_endpoint_url)
    if "://" in text:
        raise ConfigurationError(
            f"unsupported warehouse location {text!r}",
            hint="use a local directory or s3://bucket/prefix",
        )
    return LocalFiles(Path(text))
