"""The SQL sandbox: one DuckDB connection per request, over the caller's rows only.

For each table, the rows of the submissions the caller may read come from the table
format itself (``deltalake``: a ``pyarrow`` dataset of those submissions' files only, at
the Delta version the pinned publication recorded), registered under a hidden name. The
served tables are views over them: ``individuals`` (every readable dataset) and
``"<dataset>".individuals`` (one dataset). DuckDB never opens a file itself, so it runs with:

- ``enable_external_access = false``: no file, no network, no ``ATTACH``, no
  ``INSTALL``/``LOAD`` (no extension is loaded at all: the Delta files are read by
  ``deltalake``, not DuckDB's delta extension);
- ``python_enable_replacements = false``: no Python variable is ever taken for a table;
- no filter pushdown into the Arrow scans (see ``NO_PUSHDOWN``): the submissions were
  chosen when the datasets were made, the rest is filtered in DuckDB;
- ``memory_limit`` and ``threads`` from :class:`~.config.DataConnectSettings`, a
  zero-sized temporary directory (no spilling to disk);
- ``lock_configuration = true``: none of these can be changed by a query;
- a timeout: a timer thread calls ``con.interrupt()`` when a statement runs too long
  (DuckDB's Python client has no statement timeout of its own).

Rows of a withdrawn individual are gone from the current Delta version, so no view
has them.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from contextlib import suppress
from typing import Any

import duckdb
import pyarrow as pa

from harmonize.discovery.dataconnect.access import Scope
from harmonize.discovery.dataconnect.config import DataConnectSettings
from harmonize.warehouse import TABLES, View, Warehouse
from harmonize.warehouse.delta import schema

# schemas DuckDB keeps for itself: a dataset of one of these names has no dataset.table views
RESERVED = frozenset({"main", "temp", "system", "information_schema", "pg_catalog", "memory"})
_HIDDEN = "__harmonize_{}"
# filters stay in DuckDB, never pushed into Arrow's scan: a Delta delete rewrites files with
# string_view columns, which Arrow cannot compare with a string filter ("no kernel matching
# input types (string, string_view)"); a pushdown this list misses fails, it never leaks
NO_PUSHDOWN = "filter_pushdown,join_filter_pushdown,top_n"
_LOCK = threading.Lock()  # the warehouse caches open Delta tables: one opener at a time


class QueryFailed(Exception):
    """DuckDB refused or stopped a query: the message is for the caller."""


def served_datasets(scope: Scope) -> tuple[str, ...]:
    """The datasets with their own ``dataset.table`` views."""
    return tuple(d for d in scope.datasets if d.lower() not in RESERVED)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _source(warehouse: Warehouse, view: View, name: str, submissions: Sequence[str]) -> Any:
    version = view.table_versions.get(name)
    if version is None or not submissions:
        return schema(name).empty_table()
    with _LOCK:
        return warehouse.tables.dataset(name, version, submissions=submissions)


def connect(
    warehouse: Warehouse, view: View, scope: Scope, settings: DataConnectSettings
) -> duckdb.DuckDBPyConnection:
    """A locked-down connection whose served tables hold the rows ``scope`` opens."""
    con = duckdb.connect(
        ":memory:",
        config={
            "enable_external_access": False,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "allow_community_extensions": False,
            "python_enable_replacements": False,
            "memory_limit": settings.memory_limit,
            "max_temp_directory_size": "0KB",
            "threads": settings.threads,
            "disabled_optimizers": NO_PUSHDOWN,
        },
    )
    for name in TABLES:
        hidden = _HIDDEN.format(name)
        con.register(hidden, _source(warehouse, view, name, scope.submissions))
        con.execute(f"CREATE VIEW {_quote(name)} AS SELECT * FROM {_quote(hidden)}")
    for dataset in served_datasets(scope):
        con.execute(f"CREATE SCHEMA {_quote(dataset)}")
        subs = ", ".join(_literal(s) for s in scope.by_dataset[dataset])
        for name in TABLES:
            con.execute(
                f"CREATE VIEW {_quote(dataset)}.{_quote(name)} AS SELECT * FROM "
                f"{_quote(_HIDDEN.format(name))} WHERE submission_id IN ({subs})"
            )
    con.execute("SET lock_configuration = true")
    return con


def run(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    parameters: Sequence[Any] = (),
    *,
    timeout: float,
    limits: Mapping[str, str] | None = None,
) -> pa.Table:
    """``sql`` on ``con``, interrupted after ``timeout`` seconds; DuckDB errors become
    :class:`QueryFailed` (``limits`` names the memory limit in its message)."""
    timer = threading.Timer(timeout, con.interrupt)
    timer.daemon = True
    timer.start()
    try:
        result = con.execute(sql, list(parameters)).fetch_arrow_table()
    except duckdb.InterruptException as exc:
        raise QueryFailed(
            f"the query ran past the {timeout:g} s limit and was stopped: narrow it "
            "(filters, LIMIT, fewer joins)"
        ) from exc
    except duckdb.OutOfMemoryException as exc:
        limit = (limits or {}).get("memory_limit", "the memory limit")
        raise QueryFailed(
            f"the query needs more than {limit} of memory: aggregate or narrow it"
        ) from exc
    except duckdb.Error as exc:
        raise QueryFailed(str(exc).splitlines()[0][:500]) from exc
    finally:
        timer.cancel()
    return result


def close(con: duckdb.DuckDBPyConnection) -> None:
    with suppress(duckdb.Error):
        con.close()
