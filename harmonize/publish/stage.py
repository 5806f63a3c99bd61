"""Stage a submission's output before it is committed.

Everything a submission publishes is first written under
``WORKSPACE/staging/<submission_id>/``: its table rows as Parquet (zstd) streamed batch
by batch under ``tables/``, and, with the layout they will have when published (less
the version folder the commit adds), one Phenopacket JSON per individual, the accepted
input files and the quality report. Every file's size and
sha-256 are computed as it is written, so registration never re-reads them, and each
file's record is appended to ``files.jsonl`` there rather than kept in memory: a
million phenopackets cost a file on disk, not a million objects.
"""

from __future__ import annotations

import contextlib
import hashlib
import mimetypes
import os
import re
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from harmonize.drs.models import Role
from harmonize.errors import PublishError
from harmonize.mapping import tables
from harmonize.warehouse.files import file_digest

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


FILES = "files.jsonl"
_UNSAFE = re.compile(r"[^\w.-]")


class StagedFile(NamedTuple):
    """One staged file's record (a line of ``files.jsonl``); a named tuple, which a commit
    reads back 100,000 times per 100,000 Phenopackets several times over faster than a
    frozen dataclass."""

    rel: str  # path relative to the staging root == path relative to the workspace once published
    size: int
    sha256: str
    mime_type: str
    role: Role
    name: str  # DRS object name
    consent: list[str] | None = None  # a Phenopacket's own DUO codes; None: the submission's
    subject: str | None = None  # a Phenopacket's subject id (its individuals row's), if any


def mime_of(path: str) -> str:
    suffix = Path(path).suffix.lower()
    return MIME.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"


class Stage:
    """Writers for one submission's staged output."""

    def __init__(self, root: Path, submission_id: str) -> None:
        self.root = root
        self.submission_id = submission_id
        self.count = 0
        self._records = open(root / FILES, "ab")  # noqa: SIM115 - closed in close()/abort()
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._rows: dict[str, int] = {}
        self.pp_dir = f"published/phenopackets/{submission_id}"
        (root / self.pp_dir).mkdir(parents=True, exist_ok=True)

    def table_rel(self, name: str) -> str:
        """Where a table's rows are staged; committing adds them to the Delta table."""
        return f"tables/{name}.parquet"

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

    def write_documents(
        self,
        docs: list[dict[str, Any]],
        consent: Mapping[str, list[str]] | None = None,
        subjects: Mapping[str, str] | None = None,
    ) -> None:
        """Write Phenopackets; ``consent`` gives the DUO codes of those (by id) whose
        individual has its own, which their DRS objects then carry; ``subjects`` the
        subject id of those whose individuals row has one (see :func:`subjects_of`), which
        the commit streams into the subject index."""
        base = os.path.join(self.root, self.pp_dir, "")
        folder, dumps, indent, sha256 = (
            self.pp_dir + "/",
            orjson.dumps,
            orjson.OPT_INDENT_2,
            hashlib.sha256,
        )
        lines = []
        try:
            for doc in docs:
                pid = doc["id"]
                data = dumps(doc, option=indent)
                name = f"{safe_name(pid)}.json"
                _write_new(base + name, data)
                row: tuple[Any, ...] = (
                    folder + name,
                    len(data),
                    sha256(data).hexdigest(),
                    "application/json",
                    "published",
                    name,
                )
                own = consent.get(pid) if consent else None
                subject = subjects.get(pid) if subjects else None
                if subject is not None:
                    row = (*row, own, subject)
                elif own is not None:
                    row = (*row, own)
                lines.append(dumps(row))
            if lines:
                self._records.write(b"\n".join(lines) + b"\n")
                self.count += len(lines)
        except OSError as exc:
            raise PublishError(
                f"writing phenopackets failed: {exc}", submission_id=self.submission_id
            ) from exc

    def adopt_documents(
        self, other: Path, *, skip_ids: set[str] | frozenset[str] = frozenset()
    ) -> int:
        """Take the Phenopacket files another stage of this submission wrote (a batch's).

        Files are hard-linked (copied across file systems), so the other stage stays whole
        and a retried publish can take them again. Documents of ``skip_ids`` are left out.
        Returns how many were taken.
        """
        skip = {f"{safe_name(i)}.json" for i in skip_ids}
        prefix = f"{self.pp_dir}/"
        lines = []
        try:
            for f in staged_files(other):
                if f.role != "published" or not f.rel.startswith(prefix) or f.name in skip:
                    continue
                dest = self.root / f.rel
                try:
                    os.link(other / f.rel, dest)
                except OSError:
                    shutil.copyfile(other / f.rel, dest)
                row: tuple[Any, ...] = (f.rel, f.size, f.sha256, f.mime_type, f.role, f.name)
                if f.subject is not None:
                    row = (*row, f.consent, f.subject)
                elif f.consent is not None:
                    row = (*row, f.consent)
                lines.append(orjson.dumps(row))
            if lines:
                self._records.write(b"\n".join(lines) + b"\n")
                self.count += len(lines)
        except OSError as exc:
            raise PublishError(
                f"taking the phenopackets of {other} failed: {exc}",
                submission_id=self.submission_id,
            ) from exc
        return len(lines)

    def add_input(self, source: Path, name: str) -> None:
        rel = f"published/inputs/{self.submission_id}/{name}"
        dest = self.root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, dest)
            for p in sorted(q for q in dest.rglob("*") if q.is_file()):
                size, digest = file_digest(p)
                r = p.relative_to(self.root).as_posix()
                self._record(
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
        size, digest = file_digest(dest)
        self._record(StagedFile(rel, size, digest, mime_of(rel), "input", name))

    def add_report(self, json_path: Path, html_path: Path) -> None:
        for p in (json_path, html_path):
            rel = f"published/reports/{self.submission_id}/{p.name}"
            dest = self.root / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, dest)
            size, digest = file_digest(dest)
            self._record(
                StagedFile(rel, size, digest, mime_of(rel), "report", f"quality-report{p.suffix}")
            )

    def _record(self, f: StagedFile) -> None:
        row = (f.rel, f.size, f.sha256, f.mime_type, f.role, f.name)
        self._records.write(orjson.dumps(row) + b"\n")
        self.count += 1

    def close(self) -> dict[str, int]:
        """Finish the staged table files; return rows written per table.

        The tables are not DRS objects: they are committed into the published Delta tables.
        """
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
        return dict(self._rows)

    def seal(self) -> None:
        """No more files: flush the records to disk before the commit journal names them."""
        self._records.flush()
        os.fsync(self._records.fileno())
        self._records.close()

    def abort(self) -> None:
        for writer in self._writers.values():
            with contextlib.suppress(Exception):  # best effort while discarding
                writer.close()
        self._writers.clear()
        self._records.close()
        shutil.rmtree(self.root, ignore_errors=True)


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)


def _write_new(path: str, data: bytes) -> None:
    """Write ``data`` as the file ``path``, created or truncated, mode 0o666 less the umask
    as ``open(path, "wb")`` makes it. Three system calls: ``open()``'s buffered file adds an
    ``fstat``, an ``ioctl`` and an ``lseek``, and took about twice as long per file (which
    shows at 100,000 Phenopackets). Not synced, as before: the fsync policy is unchanged."""
    fd = os.open(path, _CREATE, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def safe_name(name: str) -> str:
    """A phenopacket id as a file name: no path separators, nothing hidden.

    >>> safe_name("PMID_1_Famille_é/../x")
    'PMID_1_Famille_é_.._x'
    """
    return _UNSAFE.sub("_", name).lstrip(".") or "phenopacket"


def subjects_of(individuals: pa.Table) -> dict[str, str]:
    """Phenopacket id -> subject id, for the rows of ``individuals`` that have both."""
    pids = individuals.column("phenopacket_id").to_pylist()
    subjects = individuals.column("subject_id").to_pylist()
    return {p: s for p, s in zip(pids, subjects, strict=True) if p is not None and s is not None}


def staged_files(root: Path) -> Iterator[StagedFile]:
    """The records of a stage's files, streamed back from ``files.jsonl``."""
    with open(root / FILES, "rb") as fh:
        for line in fh:
            yield StagedFile(*orjson.loads(line))


def fsync_tree(root: Path) -> None:
    for dirpath, _, _ in os.walk(root):
        fd = os.open(dirpath, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
