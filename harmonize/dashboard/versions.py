"""A submission's published versions, and what changed from each one to the next.

The versions come from the publication ledger (one query): number, commit time, DRS bundle,
and whether a later version superseded it. What changed is
:func:`harmonize.warehouse.diff.table_diff` per table between the submission's rows as the
previous version's publication left the tables and as this one's did.

Cost: a page shows ``PAGE`` versions, newest first. Their diffs read the submission's
partition of each of the tables once per version shown, plus once for the version
before the oldest shown, holding two versions of one table in memory at a time. A diff
between two committed publications only changes when an erasure expires the history it
was read from, so :class:`DiffCache` keeps it until the next erasure: a page seen before
costs three small queries (the versions, the last erasure, the bundles).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from harmonize.errors import ConfigurationError
from harmonize.warehouse import TABLES, View, Warehouse, ledger
from harmonize.warehouse.diff import KEYS, TableDiff, table_diff
from harmonize.warehouse.ledger import PublicationRow

if TYPE_CHECKING:
    import pyarrow as pa

    from harmonize.drs.registry import Registry

PAGE = 10  # versions (and diffs) per page

Changes = dict[str, TableDiff] | None  # None: the history the diff needs was erased
Key = tuple[str, int, int, int]  # submission, old and new publication, the last erasure


@dataclass(frozen=True)
class PublishedVersion:
    number: int
    seq: int  # its publication
    committed_time: datetime | None
    bundle_id: str | None
    current: bool
    superseded_by: int | None  # the version whose bundle replaced this one's
    first: bool  # nothing to compare with
    changes: Changes  # versus the previous version


@dataclass(frozen=True)
class VersionPage:
    versions: list[PublishedVersion]  # newest first
    total: int
    offset: int
    size: int

    @property
    def next_offset(self) -> int | None:
        return self.offset + self.size if self.offset + self.size < self.total else None

    @property
    def prev_offset(self) -> int | None:
        return max(self.offset - self.size, 0) if self.offset > 0 else None


class DiffCache:
    """The newest ``limit`` diffs by (submission, old publication, new publication, the
    last erasure before they were read)."""

    def __init__(self, limit: int = 1024) -> None:
        self.limit = limit
        self._items: OrderedDict[Key, Changes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Key) -> tuple[bool, Changes]:
        with self._lock:
            if key not in self._items:
                return False, None
            self._items.move_to_end(key)
            return True, self._items[key]

    def put(self, key: Key, value: Changes) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.limit:
                self._items.popitem(last=False)


def _view(row: PublicationRow) -> View:
    return View(row.seq, row.committed_time, dict(row.table_versions or {}))


def _diffs(
    warehouse: Warehouse,
    submission_id: str,
    pairs: Sequence[tuple[PublicationRow, PublicationRow]],
) -> dict[int, Changes]:
    """Changes of each ``(previous, version)`` pair (consecutive versions, oldest first),
    by the newer one's publication; each table is read once per version."""
    where = {"submission_id": submission_id}
    out: dict[int, Changes] = {new.seq: {} for _, new in pairs}
    for name in TABLES:
        held: tuple[int, pa.Table] | None = None  # the last version read, for the next pair
        for old, new in pairs:
            if out[new.seq] is None:
                continue
            try:
                if held is not None and held[0] == old.seq:
                    before = held[1]
                else:
                    before = warehouse.read(name, _view(old), where=where)
                after = warehouse.read(name, _view(new), where=where)
            except ConfigurationError:  # expired by an erasure
                out[new.seq] = None
                held = None
                continue
            held = (new.seq, after)
            changes = out[new.seq]
            assert changes is not None
            changes[name] = table_diff(before, after, KEYS[name])
    return out


def published_versions(
    registry: Registry,
    warehouse: Warehouse,
    submission_id: str,
    *,
    offset: int = 0,
    size: int = PAGE,
    cache: DiffCache | None = None,
) -> VersionPage:
    """One page of the submission's versions, newest first, each with its changes."""
    with registry.session() as session:
        rows = ledger.versions(session, submission_id)  # oldest first
        erased = session.scalar(
            select(func.max(PublicationRow.seq)).where(
                PublicationRow.kind == "erase", PublicationRow.status == "committed"
            )
        )
    erasure = int(erased or 0)
    newest_first = rows[::-1]
    shown = newest_first[offset : offset + size]
    if not shown:
        return VersionPage([], len(rows), offset, size)
    position = {row.seq: i for i, row in enumerate(rows)}
    previous = {row.seq: rows[position[row.seq] - 1] for row in shown if position[row.seq] > 0}
    changes: dict[int, Changes] = {}
    missing = []
    for row in reversed(shown):  # oldest first
        old = previous.get(row.seq)
        if old is None:
            continue
        key = (submission_id, old.seq, row.seq, erasure)
        found, value = cache.get(key) if cache else (False, None)
        if found:
            changes[row.seq] = value
        else:
            missing.append((old, row))
    for seq, value in _diffs(warehouse, submission_id, missing).items():
        changes[seq] = value
        if cache is not None:
            cache.put((submission_id, previous[seq].seq, seq, erasure), value)
    version_of = {row.bundle_id: row.version for row in rows if row.bundle_id}
    bundles = registry.get_many([row.bundle_id for row in shown if row.bundle_id])
    newest = rows[-1].seq
    out = []
    for row in shown:
        bundle = bundles.get(row.bundle_id) if row.bundle_id else None
        replaced = bundle.superseded_by if bundle is not None else None
        out.append(
            PublishedVersion(
                number=int(row.version or 0),
                seq=row.seq,
                committed_time=row.committed_time,
                bundle_id=row.bundle_id,
                current=row.seq == newest,
                superseded_by=version_of.get(replaced) if replaced else None,
                first=row.seq not in previous,
                changes=changes.get(row.seq),
            )
        )
    return VersionPage(out, len(rows), offset, size)
