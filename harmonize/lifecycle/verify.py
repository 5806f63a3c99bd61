"""``harmonize verify``: the registry, the tables and the files agree, or it says where not.

It checks, for the current publication:

- ``missing``: a live DRS object whose file is gone, or whose size or sha-256 differs;
- ``orphan``: a published file no live DRS object points at;
- ``no-object``: an ``individuals`` row whose Phenopacket has no live DRS object;
- ``withdrawn-present``: an individual of a withdrawn subject still in the tables;
- ``bundle``: a bundle whose checksum or size is not its members';
- ``uncommitted``: a table with Delta commits past the current publication, or a
  publication left pending (a crash not yet recovered: run ``harmonize recover``).

An empty list means everything agrees.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import select

from harmonize.drs.models import DrsObjectRow
from harmonize.drs.registry import Registry
from harmonize.publish.stage import safe_name
from harmonize.settings import Settings
from harmonize.warehouse import TABLES, View, Warehouse, current, ledger
from harmonize.warehouse.files import PUT_THREADS, S3Files
from harmonize.warehouse.ledger import PublicationRow, WithdrawalRow, subject_hash

VERIFY_CHUNK = 1_000  # objects handed to the threads at a time (not 1M futures at once)
FOLDERS = ("published/phenopackets/", "published/inputs/", "published/reports/")


@dataclass(frozen=True)
class Problem:
    kind: str
    where: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.where}: {self.detail}"


def _digests(warehouse: Warehouse, rels: list[str]) -> Iterator[tuple[int, str] | None]:
    """Each file's size and sha-256, in order; on S3 several GETs at a time (one by one, an
    S3 warehouse of 100,000 Phenopackets took most of half an hour to verify)."""
    files = warehouse.files
    if not isinstance(files, S3Files):
        yield from map(files.digest, rels)
        return
    files.client  # noqa: B018 - made once, before the threads share it
    with ThreadPoolExecutor(PUT_THREADS, thread_name_prefix="s3-verify") as pool:
        for start in range(0, len(rels), VERIFY_CHUNK):
            yield from pool.map(files.digest, rels[start : start + VERIFY_CHUNK])


def verify(settings: Settings, registry: Registry, *, checksums: bool = True) -> list[Problem]:
    """Every disagreement between the registry, the tables and the files (none: all good)."""
    warehouse = Warehouse.of(settings)
    problems: list[Problem] = []
    with registry.session() as session:
        live = list(session.scalars(select(DrsObjectRow).where(DrsObjectRow.deleted.is_(False))))
        pending = list(
            session.scalars(select(PublicationRow).where(PublicationRow.status == "pending"))
        )
        withdrawals = list(session.scalars(select(WithdrawalRow)))
        latest = ledger.latest(session)
    objects = [r for r in live if not r.is_bundle and r.path]
    problems += _files(warehouse, objects, checksums)
    problems += _orphans(warehouse, {r.path for r in objects if r.path})
    problems += _bundles(registry, [r for r in live if r.is_bundle])
    view = current(registry)
    problems += _rows(warehouse, view, {r.path for r in objects if r.path})
    problems += _withdrawn(warehouse, view, withdrawals)
    for row in pending:
        problems.append(
            Problem("uncommitted", f"publication {row.seq}", "pending: run `harmonize recover`")
        )
    versions = dict(latest.table_versions) if latest is not None else {}
    for name in TABLES:
        if warehouse.tables.exists(name):
            at = warehouse.tables.version(name)
            if at > versions.get(name, -1):
                problems.append(
                    Problem(
                        "uncommitted",
                        f"table {name}",
                        f"Delta version {at} is past the current publication's "
                        f"{versions.get(name)}: run `harmonize recover`",
                    )
                )
    return problems


def _files(warehouse: Warehouse, objects: list[DrsObjectRow], checksums: bool) -> Iterator[Problem]:
    if not checksums:  # presence only: one listing per folder, not a request per object
        folders = {str(row.path).rsplit("/", 1)[0] + "/" for row in objects}
        present = {rel for folder in sorted(folders) for rel in warehouse.files.list(folder)}
        for row in objects:
            if row.path not in present:
                yield Problem("missing", str(row.path), f"DRS object {row.id} has no file")
        return
    for row, found in zip(
        objects, _digests(warehouse, [str(r.path) for r in objects]), strict=True
    ):
        assert row.path is not None
        if found is None:
            yield Problem("missing", row.path, f"DRS object {row.id} has no file")
        elif found != (row.size, row.sha256):
            yield Problem(
                "missing",
                row.path,
                f"DRS object {row.id} says {row.size} bytes sha-256 {row.sha256}, "
                f"the file has {found[0]} bytes sha-256 {found[1]}",
            )


def _orphans(warehouse: Warehouse, registered: set[str]) -> Iterator[Problem]:
    for folder in FOLDERS:
        for rel in warehouse.files.list(folder):
            if rel not in registered and not rel.rsplit("/", 1)[-1].startswith("."):
                yield Problem("orphan", rel, "no live DRS object points at this file")


def _bundles(registry: Registry, bundles: list[DrsObjectRow]) -> Iterator[Problem]:
    from harmonize.drs.registration import member_totals

    with registry.transaction() as conn:
        for bundle in bundles:
            _, size, checksum = member_totals(conn, bundle.id, registry.chunk)
            if (size, checksum) != (bundle.size, bundle.sha256):
                yield Problem(
                    "bundle",
                    bundle.id,
                    f"checksum {bundle.sha256} / {bundle.size} bytes, members give "
                    f"{checksum} / {size} bytes",
                )


def _rows(warehouse: Warehouse, view: View, registered: set[str]) -> Iterator[Problem]:
    individuals = warehouse.read(
        "individuals", view, columns=["submission_id", "submission_version", "phenopacket_id"]
    )
    for sid, version, pid in zip(
        individuals.column("submission_id").to_pylist(),
        individuals.column("submission_version").to_pylist(),
        individuals.column("phenopacket_id").to_pylist(),
        strict=True,
    ):
        rel = f"published/phenopackets/{sid}/v{version}/{safe_name(pid)}.json"
        if rel not in registered:
            yield Problem("no-object", f"{sid} v{version}", f"row {pid!r}: no live {rel}")


def _withdrawn(
    warehouse: Warehouse, view: View, withdrawals: list[WithdrawalRow]
) -> Iterator[Problem]:
    if not withdrawals:
        return
    hashes = {(w.dataset, w.subject_hash): w.id for w in withdrawals}
    individuals = warehouse.read(
        "individuals", view, columns=["dataset", "subject_id", "submission_id"]
    )
    for dataset, subject, sid in zip(
        individuals.column("dataset").to_pylist(),
        individuals.column("subject_id").to_pylist(),
        individuals.column("submission_id").to_pylist(),
        strict=True,
    ):
        if subject is None:
            continue
        withdrawal = hashes.get((dataset, subject_hash(dataset, subject)))
        if withdrawal is not None:
            yield Problem(
                "withdrawn-present",
                f"{dataset}/{sid}",
                f"an individual of withdrawal {withdrawal} is in the current tables",
            )
