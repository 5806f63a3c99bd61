"""Apache Iceberg through ``pyiceberg`` with its SQL catalog on SQLite.

- Identity-partitioned by ``submission_id`` (spec added to the new, empty table).
- Each table stays open as a pyiceberg ``Table``; a commit refreshes its metadata in place.
- A replacement is ``overwrite(df, overwrite_filter=EqualTo("submission_id", sid))``: one
  catalog commit (a delete snapshot, then an append snapshot). A deletion is ``delete``
  with the partition term and the ``phenopacket_id`` term: copy-on-write of the
  submission's files (pyiceberg writes no delete files).
- Properties: ``write.metadata.delete-after-commit.enabled`` and
  ``write.metadata.previous-versions-max`` keep one ``metadata.json`` per commit from piling
  up (each one lists every snapshot, so 1,000 commits would leave 1,000 files of growing
  size); ``commit.manifest-merge.enabled`` (option ``merge``) merges manifests on append.
- Erasure (:meth:`Iceberg.expire`): ``expire_snapshots`` removes snapshots from the metadata
  only; pyiceberg has no orphan-file removal, so :func:`remove_orphans` is the code we would
  write. And only ``write.metadata.metrics.default=none``, set before the rows were written,
  keeps a deleted value out of the manifests' column bounds (unless option ``stats``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.expressions import AlwaysTrue, And, EqualTo
from pyiceberg.table import Table

from formats.base import TableFormat
from formats.data import PARTITION

NAMESPACE = "harmonize"


def local_path(uri: str) -> str:
    parsed = urlparse(uri)
    return parsed.path if parsed.scheme in ("file", "") else uri


def reachable(tbl: Table) -> set[str]:
    """Every file a retained snapshot or the current metadata needs, as local paths or URIs."""
    io = tbl.io
    keep = {tbl.metadata_location}
    keep |= {entry.metadata_file for entry in tbl.metadata.metadata_log}
    for snapshot in tbl.metadata.snapshots:
        keep.add(snapshot.manifest_list)
        for manifest in snapshot.manifests(io):
            keep.add(manifest.manifest_path)
            for entry in manifest.fetch_manifest_entry(io, discard_deleted=True):
                keep.add(entry.data_file.file_path)
    keep |= {s.statistics_path for s in tbl.metadata.statistics}
    keep |= {s.statistics_path for s in tbl.metadata.partition_statistics}
    return {local_path(uri) for uri in keep}


def remove_orphans(tbl: Table) -> list[str]:
    """Delete every file under the table's (local) location that nothing retained needs.

    What pyiceberg lacks and Java's ``DeleteOrphanFiles`` does. Without a grace period it
    would delete the files of a commit in flight, so it must run while no one writes.
    """
    keep = reachable(tbl)
    removed = []
    for folder, _, names in os.walk(local_path(tbl.location())):
        for name in names:
            path = os.path.join(folder, name)
            if path not in keep:
                os.remove(path)
                removed.append(path)
    return removed


class Iceberg(TableFormat):
    name = "iceberg"

    def __init__(self, root: Path, **options: Any) -> None:
        super().__init__(root, **options)
        root.mkdir(parents=True, exist_ok=True)
        props = {
            "uri": options.get("catalog_uri") or f"sqlite:///{root / 'catalog.db'}",
            "warehouse": options.get("warehouse") or (root / "warehouse").as_uri(),
            **options.get("catalog_properties", {}),
        }
        self.catalog = SqlCatalog("bench", **props)
        self.catalog.create_namespace_if_not_exists(NAMESPACE)
        self.tables: dict[str, Table] = {}

    def properties(self) -> dict[str, str]:
        props = {
            "write.parquet.compression-codec": "zstd",
            "write.metadata.delete-after-commit.enabled": "true",
            "write.metadata.previous-versions-max": "10",
        }
        if not self.stats:
            props["write.metadata.metrics.default"] = "none"
        if self.options.get("merge"):
            props["commit.manifest-merge.enabled"] = "true"
        return props

    def create(self, name: str, schema: pa.Schema) -> None:
        tbl = self.catalog.create_table(
            (NAMESPACE, name), schema=schema, properties=self.properties()
        )
        with tbl.update_spec() as spec:
            spec.add_identity(PARTITION)
        self.tables[name] = tbl

    def append(self, name: str, table: pa.Table) -> None:
        self.tables[name].append(table)

    def replace_submission(self, name: str, sid: str, table: pa.Table) -> None:
        self.tables[name].overwrite(table, overwrite_filter=EqualTo(PARTITION, sid))

    def delete_individual(self, name: str, sid: str, pid: str) -> None:
        self.tables[name].delete(And(EqualTo(PARTITION, sid), EqualTo("phenopacket_id", pid)))

    def read(self, name: str, sid: str | None = None, version: Any = None) -> pa.Table:
        scan = self.tables[name].scan(
            row_filter=EqualTo(PARTITION, sid) if sid is not None else AlwaysTrue(),
            snapshot_id=version,
        )
        return scan.to_arrow()

    def version(self, name: str) -> int | None:
        snapshot = self.tables[name].current_snapshot()
        return snapshot.snapshot_id if snapshot else None

    def reopen(self, name: str) -> None:
        self.tables[name] = self.catalog.load_table((NAMESPACE, name))

    def expire(self, name: str) -> list[str]:
        tbl = self.tables[name]
        current = tbl.current_snapshot()
        old = [s.snapshot_id for s in tbl.metadata.snapshots if current and s != current]
        if old:
            tbl.maintenance.expire_snapshots().by_ids(old).commit()
        removed = remove_orphans(tbl)
        return [
            f"expire_snapshots().by_ids(...): {len(old)} snapshots",
            f"remove_orphans (ours, {len(removed)} files removed)",
        ]

    def maintain(self, name: str, keep: int = 10) -> None:
        """Expire all but the last ``keep`` snapshots: pyiceberg's commits slow down with each
        snapshot kept (every read of ``Transaction.table_metadata`` deep-copies them all)."""
        tbl = self.tables[name]
        snapshots = sorted(tbl.metadata.snapshots, key=lambda s: s.sequence_number or 0)
        old = [s.snapshot_id for s in snapshots[:-keep]]
        if old:
            tbl.maintenance.expire_snapshots().by_ids(old).commit()

    def expire_default(self, name: str) -> list[str]:
        """What pyiceberg alone offers: snapshots expired, no file deleted."""
        tbl = self.tables[name]
        current = tbl.current_snapshot()
        old = [s.snapshot_id for s in tbl.metadata.snapshots if current and s != current]
        if old:
            tbl.maintenance.expire_snapshots().by_ids(old).commit()
        return [f"expire_snapshots().by_ids(...): {len(old)} snapshots, no file deleted"]

    def location(self, name: str) -> Path:
        return Path(local_path(self.tables[name].location()))

    def metadata_location(self, name: str) -> str:
        return local_path(self.tables[name].metadata_location)

    def duckdb_source(self, name: str) -> str:
        return f"iceberg_scan('{self.metadata_location(name)}')"

    def extra_files(self) -> list[Path]:
        db = self.root / "catalog.db"
        return [db] if db.exists() else []

    def manifests(self, name: str) -> int:
        """Manifests the current snapshot lists: what a scan has to open."""
        tbl = self.tables[name]
        snapshot = tbl.current_snapshot()
        return len(snapshot.manifests(tbl.io)) if snapshot else 0

    def files(self, name: str) -> int:
        return len(self.tables[name].inspect.files())
