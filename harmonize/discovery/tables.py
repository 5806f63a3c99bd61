"""The current published tables in DuckDB: one connection per publication, shared by readers.

:class:`Snapshots` answers :meth:`~Snapshots.current` with a :class:`Snapshot` of the
newest committed publication: an in-memory DuckDB connection where every published table
is a view at that publication's Delta version (:func:`harmonize.warehouse.duck.attach`),
so withdrawn individuals (deleted rows) and superseded versions (replaced rows) are
already gone, and all tables agree. A new publication makes a new snapshot; the old one
is closed once no reader holds it. Extra tables a reader derives from a snapshot (an
ontology closure, say) are built once per snapshot by the ``prepare`` hook.

A snapshot's connection is shared: each reader takes its own :meth:`Snapshot.cursor`
(DuckDB cursors are safe to use from one thread each).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from harmonize.settings import Settings
from harmonize.warehouse import View, Warehouse, current


class Snapshot:
    """The tables as one publication left them, in one DuckDB connection."""

    def __init__(self, con: Any, view: View, access: dict[str, str]) -> None:
        self.con = con
        self.view = view
        self.access = access  # submission id -> public | controlled (current versions)
        self.extras: dict[str, Any] = {}  # what readers derive once per snapshot
        self._lock = threading.Lock()

    @property
    def seq(self) -> int:
        return self.view.seq

    def cursor(self) -> Any:
        """A cursor of its own for one reader (one thread)."""
        with self._lock:
            return self.con.cursor()


def submission_access(registry: Any) -> dict[str, str]:
    """Submission id -> access of its current (not superseded, not deleted) bundle."""
    from sqlalchemy import select

    from harmonize.drs.models import DrsObjectRow

    rows = DrsObjectRow
    query = select(rows.submission_id, rows.access).where(
        rows.is_bundle.is_(True), rows.deleted.is_(False), rows.superseded_by.is_(None)
    )
    with registry.session() as session:
        return {sid: access for sid, access in session.execute(query)}


def attach_pinned(con: Any, warehouse: Warehouse, view: View) -> None:
    """One view per table at ``view``'s Delta versions, each table's snapshot pinned.

    Like :func:`harmonize.warehouse.duck.attach`, but through ``ATTACH ... (TYPE delta,
    PIN_SNAPSHOT, VERSION n)``: the Delta log is read once, not on every query (a query
    over ``delta_scan`` re-reads it: about 8 ms a table on the test cohorts, 2 ms pinned).
    A column the table format's schema has but the table's version lacks (it was written
    before the column was added) is NULL in the view.
    """
    from harmonize.warehouse import TABLES
    from harmonize.warehouse.delta import schema
    from harmonize.warehouse.duck import reach

    reach(con, warehouse)  # S3: httpfs and a secret
    for name in TABLES:
        version = view.table_versions.get(name)
        if version is None:
            columns = ", ".join(f'NULL::{_duck_type(f.type)} AS "{f.name}"' for f in schema(name))
            con.execute(f'CREATE OR REPLACE VIEW "{name}" AS SELECT {columns} WHERE false')
            continue
        uri = warehouse.tables.uri(name).replace("'", "''")
        con.execute(
            f"ATTACH '{uri}' AS \"hz_{name}\" (TYPE delta, PIN_SNAPSHOT, VERSION {int(version)})"
        )
        # a table last written before a column was added lacks it: NULL, as for its rows
        have = {c[0] for c in con.execute(f'SELECT * FROM "hz_{name}" LIMIT 0').description}
        missing = "".join(
            f', NULL::{_duck_type(f.type)} AS "{f.name}"'
            for f in schema(name)
            if f.name not in have
        )
        con.execute(f'CREATE OR REPLACE VIEW "{name}" AS SELECT *{missing} FROM "hz_{name}"')


def _duck_type(arrow_type: Any) -> str:
    import pyarrow as pa

    if pa.types.is_boolean(arrow_type):
        return "BOOLEAN"
    if pa.types.is_integer(arrow_type):
        return "BIGINT"
    if pa.types.is_floating(arrow_type):
        return "DOUBLE"
    if pa.types.is_list(arrow_type):
        return "VARCHAR[]"
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMPTZ"
    return "VARCHAR"


class Snapshots:
    """Snapshots of one warehouse, refreshed when a new publication commits.

    ``recheck_seconds`` bounds how often the registry is asked for the newest
    publication (0: on every call).
    """

    def __init__(
        self,
        settings: Settings,
        registry: Any,
        *,
        prepare: Callable[[Snapshot], None] | None = None,
        recheck_seconds: float = 0.0,
        memory_limit: str = "1GB",
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.prepare = prepare
        self.recheck_seconds = recheck_seconds
        self.memory_limit = memory_limit
        self._warehouse: Warehouse | None = None
        self._snapshot: Snapshot | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    def current(self) -> Snapshot:
        now = time.monotonic()
        with self._lock:
            held = self._snapshot
            if held is not None and now - self._checked < self.recheck_seconds:
                return held
            view = current(self.registry)
            self._checked = now
            if held is not None and held.view.seq == view.seq:
                return held
            self._snapshot = self._open(view)
            return self._snapshot

    def _open(self, view: View) -> Snapshot:
        from harmonize.warehouse.duck import connect

        if self._warehouse is None:
            self._warehouse = Warehouse.of(self.settings)
        con = connect(memory_limit=self.memory_limit)
        attach_pinned(con, self._warehouse, view)
        snapshot = Snapshot(con, view, submission_access(self.registry))
        if self.prepare is not None:
            self.prepare(snapshot)
        return snapshot
