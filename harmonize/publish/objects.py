"""The DRS objects of a staged submission version and its subject index, as the commit
registers them (step 5 of :mod:`harmonize.publish.commit`).

Both stream from the stage's ``files.jsonl``: a million Phenopackets cost no more memory
than a chunk of them. What is the same for every object of a version (submission,
dataset, access, consent, time, the versioned folders, each role's description, the
hashed prefix of ids and subject hashes) is worked out once, not once per object.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from harmonize.drs.ids import object_ids
from harmonize.drs.registry import ObjectSpec
from harmonize.errors import PublishError
from harmonize.publish.stage import staged_files
from harmonize.warehouse import ledger

VERSIONED = ("published/phenopackets/", "published/inputs/", "published/reports/")
PHENOPACKETS = "published/phenopackets/"


def versioned(rel: str, submission_id: str, version: int) -> str:
    """Where a staged file is published: ``v<N>`` after the submission's folder.

    >>> versioned("published/phenopackets/s1/p.json", "s1", 2)
    'published/phenopackets/s1/v2/p.json'
    """
    return versioner(submission_id, version)(rel)


def versioner(submission_id: str, version: int) -> Callable[[str], str]:
    """:func:`versioned` for many files of one version: ``place(rel)``."""
    heads = [(f"{p}{submission_id}/", f"{p}{submission_id}/v{version}/") for p in VERSIONED]

    def place(rel: str) -> str:
        for head, to in heads:
            if rel.startswith(head):
                return to + rel[len(head) :]
        raise PublishError(f"unexpected staged file {rel!r}", submission_id=submission_id)

    return place


class SubjectIndex:
    """Which Phenopacket object holds which subject (hashed): what a withdrawal looks up.

    Rows are added as the staged files stream by and written ``chunk`` at a time into the
    registry transaction ``conn``, so memory does not grow with the submission.
    """

    def __init__(self, conn: Any, journal: dict[str, Any], chunk: int = 5000) -> None:
        self.conn, self.chunk = conn, chunk
        self.sid, self.version = journal["submission_id"], journal["version"]
        self.dataset = journal["dataset"]
        self.rows: list[tuple[str, str, str, str, int]] = []
        # ledger.subject_hash(dataset, subject), with the dataset's part encoded once
        self._salt = ledger.subject_hash_prefix(self.dataset)

    def add(self, object_id: str, subject: str) -> None:
        digest = hashlib.sha256(self._salt + subject.encode()).hexdigest()
        self.rows.append((object_id, self.dataset, digest, self.sid, self.version))
        if len(self.rows) >= self.chunk:
            self.flush()

    def flush(self) -> None:
        ledger.index_subject_rows(self.conn, self.rows)
        self.rows = []


def object_specs(
    stage_root: Path, journal: dict[str, Any], index: SubjectIndex | dict[str, str]
) -> Iterator[ObjectSpec]:
    """The DRS objects of the staged files, streamed (ids are derived from content).

    Each Phenopacket file's subject goes to the subject ``index``; a journal of a stage
    written before its records carried subjects gets a dict instead, filled with each
    Phenopacket file's object id by file name (see :func:`subject_index_rows`).
    """
    sid, version = journal["submission_id"], journal["version"]
    created = datetime.fromisoformat(journal["created"])
    dataset, access, consent = journal["dataset"], journal["access"], journal["consent"]
    place, make_id = versioner(sid, version), object_ids(sid)
    described: dict[str, str] = {}
    legacy = index if isinstance(index, dict) else None
    add = index.add if isinstance(index, SubjectIndex) else None
    label = str(version)
    for f in staged_files(stage_root):
        rel = place(f.rel)
        oid = make_id(rel, f.sha256)
        role = f.role
        if role == "published" and f.rel.startswith(PHENOPACKETS):
            if legacy is not None:
                legacy[f.name] = oid
            elif add is not None and f.subject is not None:
                add(oid, f.subject)
        description = described.get(role)
        if description is None:
            description = described[role] = f"{role} file of submission {sid}, version {version}"
        yield ObjectSpec(
            id=oid,
            name=f.name,
            path=rel,
            size=f.size,
            sha256=f.sha256,
            mime_type=f.mime_type,
            submission_id=sid,
            dataset=dataset,
            access=access,
            role=role,
            description=description,
            created_time=created,
            version=label,
            consent=f.consent if f.consent is not None else consent,
        )


def subject_index_rows(
    staged: Path, objects: dict[str, str], *, dataset: str, submission_id: str, version: int
) -> list[dict[str, Any]]:
    """The subject index read back from a staged individuals table ``staged``: for a stage
    whose records name no subjects (an older Harmonize's, rolled forward) and for a
    submission migrated to the table format. ``objects``: each Phenopacket file's object
    id, by file name (see :func:`object_specs`)."""
    import pyarrow.parquet as pq

    from harmonize.publish.stage import safe_name

    if not staged.exists():
        return []
    table = pq.read_table(staged, columns=["phenopacket_id", "subject_id"])
    rows = []
    for pid, subject in zip(
        table.column("phenopacket_id").to_pylist(),
        table.column("subject_id").to_pylist(),
        strict=True,
    ):
        obj = objects.get(f"{safe_name(pid)}.json")
        if subject is not None and obj is not None:
            rows.append(
                {
                    "object_id": obj,
                    "dataset": dataset,
                    "subject_hash": ledger.subject_hash(dataset, subject),
                    "submission_id": submission_id,
                    "version": version,
                }
            )
    return rows
