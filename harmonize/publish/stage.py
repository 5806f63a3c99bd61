"""Stage a submission's output before it is committed.

Everything a submission publishes is first written under
``WORKSPACE/staging/<submission_id>/`` with the same layout it will have when
published: Parquet tables (zstd) streamed batch by batch, one Phenopacket JSON per
individual, the accepted input files and the quality report. Every file's size and
sha-256 are computed as it is written, so registration never re-reads them.
"""

from __future__ import annotations

import contextlib
import hashlib
import mimetypes
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from harmonize.errors import PublishError
from harmonize.mapping import tables

MIME = {
    ".parquet": "application/vnd.apache.parquet",
    ".json": "application/json",
    ".html": "text/html",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    ".jsonl": "application/jsonl",
    ".yaml": "application/yaml",
}


@dataclass(frozen=True)
class StagedFile:
    rel: str  # path relative to the staging root == path relative to the workspace once published
    size: int
    sha256: str
    mime_type: str
    role: str  # input | published | report
    name: str  # DRS object name


def mime_of(path: str) -> str:
    suffix = Path(path).suffix.lower()
    return MIME.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"


def _hash_file(path: Path) -> tuple[int, str]:
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return size, h.hexdigest()


class Stage:
    """Writers for one submission's staged output."""

    def __init__(self, root: Path, submission_id: str) -> None:
        self.root = root
        self.submission_id = submission_id
        self.files: list[StagedFile] = []
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._rows: dict[str, int] = {}
        self.pp_dir = f"published/phenopackets/{submission_id}"
        (root / self.pp_dir).mkdir(parents=True, exist_ok=True)

    def table_rel(self, name: str) -> str:
        return f"published/tables/{name}/submission_id={self.submission_id}/part-0.parquet"

    def write_tables(self, batch: dict[str, pa.Table]) -> None:
        try:
            for name, table in batch.items():
                if table.num_rows == 0:
                    continue
                writer = self._writers.get(name)
                if writer is None:
                    path = self.root / self.table_rel(name)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    writer = pq.ParquetWriter(path, tables.SCHEMAS[name], compression="zstd")
                    self._writers[name] = writer
                writer.write_table(table)
                self._rows[name] = self._rows.get(name, 0) + table.num_rows
        except OSError as exc:
            raise PublishError(
                f"writing tables failed: {exc}", submission_id=self.submission_id
            ) from exc

    def write_documents(self, docs: list[dict[str, Any]]) -> None:
        base = self.root / self.pp_dir
        try:
            for doc in docs:
                data = orjson.dumps(doc, option=orjson.OPT_INDENT_2)
                name = f"{_safe(doc['id'])}.json"
                with open(base / name, "wb") as fh:
                    fh.write(data)
                self.files.append(
                    StagedFile(
                        f"{self.pp_dir}/{name}",
                        len(data),
                        hashlib.sha256(data).hexdigest(),
                        "application/json",
                        "published",
                        name,
                    )
                )
        except OSError as exc:
            raise PublishError(
                f"writing phenopackets failed: {exc}", submission_id=self.submission_id
            ) from exc

    def add_input(self, source: Path, name: str) -> None:
        rel = f"published/inputs/{self.submission_id}/{name}"
        dest = self.root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, dest)
            for p in sorted(q for q in dest.rglob("*") if q.is_file()):
                size, digest = _hash_file(p)
                r = p.relative_to(self.root).as_posix()
                self.files.append(
                    StagedFile(
                        r,
                        size,
                        digest,
                        mime_of(r),
                        "input",
                        f"{name}/{p.relative_to(dest).as_posix()}",
                    )
                )
            return
        shutil.copyfile(source, dest)
        size, digest = _hash_file(dest)
        self.files.append(StagedFile(rel, size, digest, mime_of(rel), "input", name))

    def add_report(self, json_path: Path, html_path: Path) -> None:
        for p in (json_path, html_path):
            rel = f"published/reports/{self.submission_id}/{p.name}"
            dest = self.root / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, dest)
            size, digest = _hash_file(dest)
            self.files.append(
                StagedFile(rel, size, digest, mime_of(rel), "report", f"quality-report{p.suffix}")
            )

    def close(self) -> dict[str, int]:
        """Finish the Parquet files; return rows written per table."""
        for name, writer in self._writers.items():
            writer.close()
            rel = self.table_rel(name)
            size, digest = _hash_file(self.root / rel)
            self.files.append(
                StagedFile(rel, size, digest, mime_of(rel), "published", f"{name}.parquet")
            )
        self._writers.clear()
        return dict(self._rows)

    def abort(self) -> None:
        for writer in self._writers.values():
            with contextlib.suppress(Exception):  # best effort while discarding
                writer.close()
        self._writers.clear()
        shutil.rmtree(self.root, ignore_errors=True)


def _safe(name: str) -> str:
    """A phenopacket id as a file name: no path separators, nothing hidden."""
    cleaned = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
    return cleaned.lstrip(".") or "phenopacket"


def fsync_tree(root: Path) -> None:
    for dirpath, _, _ in os.walk(root):
        fd = os.open(dirpath, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
