"""Look for a value in every byte Harmonize keeps: files decoded as well as raw.

Parquet pages are compressed (a plain byte search misses a value in them), so Parquet
files are read and their values searched; zip (xlsx), gzip and zstd files are
decompressed. An S3
prefix is searched the same way, object by object.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq


def _decoded(name: str, data: bytes) -> Iterator[bytes]:
    yield data
    if name.endswith(".parquet") or data[:4] == b"PAR1":
        table = pq.read_table(io.BytesIO(data))
        yield json.dumps(table.to_pylist(), default=str, ensure_ascii=False).encode()
    if data[:4] == b"PK\x03\x04":  # a zip: an xlsx workbook
        import zipfile

        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in archive.namelist():
                yield archive.read(member)
    if data[:2] == b"\x1f\x8b":
        yield gzip.decompress(data)
    if data[:4] == b"\x28\xb5\x2f\xfd":
        import zstandard

        yield zstandard.ZstdDecompressor().decompressobj().decompress(data)


def traces(needle: str, files: Iterator[tuple[str, bytes]]) -> list[str]:
    """The names of the files in which ``needle`` (or its JSON-escaped form) occurs."""
    forms = {needle.encode(), json.dumps(needle)[1:-1].encode(), needle.encode("utf-16-le")}
    hits = []
    for name, data in files:
        if any(form in blob for blob in _decoded(name, data) for form in forms):
            hits.append(name)
    return hits


def local_files(root: Path) -> Iterator[tuple[str, bytes]]:
    for path in sorted(root.rglob("*")):
        if path.is_file():
            yield str(path), path.read_bytes()


def s3_files(client: Any, bucket: str, prefix: str = "") -> Iterator[tuple[str, bytes]]:
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            body = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            yield f"s3://{bucket}/{item['Key']}", body
