"""What ``POST /search`` accepts: one ``SELECT`` over the served tables, nothing else.

Each query is parsed with sqlglot (DuckDB dialect) before DuckDB sees it, and DuckDB runs
the SQL regenerated from the checked tree, never the caller's text: what was checked is
what runs. Refused, with a :class:`Refused` naming the reason:

- text that does not parse, or more than one statement;
- any statement that is not a query (``COPY``, ``ATTACH``, ``INSTALL``, ``LOAD``,
  ``PRAGMA``, ``SET``, ``CALL``, DDL, DML), and ``SELECT ... INTO``;
- a table that is not one the caller may read (:mod:`.catalog` names), including a file
  path used as a table, a catalog-qualified name or another schema;
- a table function (``read_csv``, ``read_parquet``, ``glob``, ``delta_scan``, ``query``,
  ``duckdb_settings`` ...) and the functions that read files, settings or the
  environment, wherever they appear.

>>> check("SELECT sex, count(*) FROM individuals GROUP BY sex", {"individuals"}).sql
'SELECT sex, COUNT(*) FROM individuals GROUP BY sex'
>>> try:
...     check("SELECT 1; SELECT 2", set())
... except Refused as refused:
...     print(refused)
one statement per request: this query has 2
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # "falling back to a Command": refused

# functions that reach outside the served tables: files, other databases, settings, the
# environment, the catalogue; refused wherever they appear (DuckDB blocks file access too)
FORBIDDEN = re.compile(
    r"^(read_\w+|parquet_\w+|delta_\w+|iceberg_\w+|sniff_csv|glob|query|query_table|getenv|"
    r"current_setting|duckdb_\w+|pragma_\w+|which_secret|load_\w+|install_\w+|"
    r"sqlite_\w+|postgres_\w+|mysql_\w+|\w+_scan|enable_\w+|disable_\w+|checkpoint|"
    r"force_checkpoint|set_\w+|getvariable|current_database|current_schemas?)$",
    re.IGNORECASE,
)
PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")  # a name DuckDB can never take for a file


class Refused(Exception):
    """A query ``POST /search`` will not run; the message says why and what to do."""


@dataclass(frozen=True)
class Checked:
    """A query that passed: the SQL to run, its tables and its ``?`` placeholders."""

    sql: str
    tables: frozenset[str]
    placeholders: int


def _statements(query: str) -> list[exp.Expr]:
    try:
        parsed = sqlglot.parse(query, dialect="duckdb")
    except SqlglotError as exc:
        first = str(exc).splitlines()[0][:300]
        raise Refused(f"the query is not valid SQL: {first}") from exc
    return [s for s in parsed if s is not None]


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name)
    return str(node.sql_name())


def _table_name(node: exp.Table) -> str:
    if not isinstance(node.this, exp.Identifier):
        what = node.this.sql(dialect="duckdb")[:80]
        raise Refused(
            f"{what} is a table function: only the served tables may be queried "
            "(GET /tables lists them)"
        )
    if node.catalog:
        raise Refused(f"table {node.sql(dialect='duckdb')[:80]} names a catalog: use dataset.table")
    return f"{node.db}.{node.name}" if node.db else str(node.name)


def check(query: str, tables: Collection[str]) -> Checked:
    """The query as it will run, if it is one ``SELECT`` over ``tables``; else :class:`Refused`."""
    try:
        return _check(query, tables)
    except RecursionError as exc:
        raise Refused("the query nests too deeply: flatten its expressions") from exc


def _check(query: str, tables: Collection[str]) -> Checked:
    statements = _statements(query)
    if len(statements) != 1:
        raise Refused(f"one statement per request: this query has {len(statements)}")
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        kind = tree.key.upper() if not isinstance(tree, exp.Command) else str(tree.this).upper()
        raise Refused(f"only a SELECT query may run here, not {kind}")
    ctes = {str(cte.alias) for cte in tree.find_all(exp.CTE)}
    bad = sorted(c for c in ctes if not PLAIN.match(c))
    if bad:
        raise Refused(f"name common table expressions with letters, digits and '_': {bad[0]!r}")
    for node in tree.walk():
        if isinstance(node, exp.Into):
            raise Refused("SELECT ... INTO writes a table: only a SELECT query may run here")
        if isinstance(node, exp.Command | exp.DDL | exp.DML | exp.Set | exp.Pragma):
            raise Refused(f"only a SELECT query may run here, not {node.key.upper()}")
        if isinstance(node, exp.Func) and FORBIDDEN.match(_function_name(node)):
            raise Refused(
                f"function {_function_name(node).lower()} is not allowed: queries read the "
                "served tables only (GET /tables lists them)"
            )
        if isinstance(node, exp.Lateral) and not isinstance(node.this, exp.Subquery):
            raise Refused("LATERAL takes a subquery here, not a table function")
    used: set[str] = set()
    for node in tree.find_all(exp.Table):
        name = _table_name(node)
        if name in ctes and not node.db:
            continue
        if name not in tables:
            raise Refused(
                f"table {name} is not one you may read: GET /tables lists the tables "
                "(and datasets) your credentials open"
            )
        used.add(name)
    placeholders = sum(1 for _ in tree.find_all(exp.Placeholder))
    return Checked(tree.sql(dialect="duckdb"), frozenset(used), placeholders)
