"""What the bench asks of a table format: the operations of a publication's life.

One :class:`TableFormat` object holds the five tables of one location (a folder or an S3
prefix) and keeps each table open between operations, as a long-lived publisher would.
Every write is one commit of one table: neither format commits several tables at once, so
a publication (five tables) is five commits.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import pyarrow as pa

from formats.data import Publication


class TableFormat(ABC):
    name: str = ""
    # per-file column statistics in the format's metadata (min/max values of every column);
    # off, the metadata holds partition values and row counts only, no row values
    stats: bool

    def __init__(self, root: Path, *, stats: bool = False, **options: Any) -> None:
        self.root = root
        self.stats = stats
        self.options = options

    @abstractmethod
    def create(self, name: str, schema: pa.Schema) -> None:
        """Create the empty table, partitioned by ``submission_id``."""

    @abstractmethod
    def append(self, name: str, table: pa.Table) -> None:
        """Add rows (one commit)."""

    @abstractmethod
    def replace_submission(self, name: str, sid: str, table: pa.Table) -> None:
        """Replace every row of ``sid`` by ``table`` (a new version), in one commit."""

    @abstractmethod
    def delete_individual(self, name: str, sid: str, pid: str) -> None:
        """Delete the rows of one individual of one submission (row level)."""

    @abstractmethod
    def read(self, name: str, sid: str | None = None, version: Any = None) -> pa.Table:
        """The table (or one submission's rows), current or as of ``version``."""

    @abstractmethod
    def version(self, name: str) -> Any:
        """A token for the table's current version, for :meth:`read`."""

    @abstractmethod
    def reopen(self, name: str) -> None:
        """Open the table afresh from storage, as another process would."""

    @abstractmethod
    def maintain(self, name: str) -> None:
        """Routine upkeep that keeps commits fast (a checkpoint; old snapshots expired)."""

    @abstractmethod
    def expire_default(self, name: str) -> list[str]:
        """What the format's usual maintenance does to old versions; the steps taken."""

    @abstractmethod
    def expire(self, name: str) -> list[str]:
        """Drop every old version and unreferenced file; the steps taken."""

    @abstractmethod
    def location(self, name: str) -> Path:
        """The table's folder on local disk."""

    @abstractmethod
    def duckdb_source(self, name: str) -> str:
        """A DuckDB table function call reading the current table."""

    def extra_files(self) -> list[Path]:
        """Files outside the table folders that hold table state (a catalog database)."""
        return []

    # -- a publication is five commits -------------------------------------------------

    def publish(self, pub: Publication) -> None:
        for name, table in pub.items():
            self.append(name, table)

    def count(self, name: str) -> int:
        return self.read(name).num_rows
