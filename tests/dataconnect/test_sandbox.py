"""The DuckDB sandbox alone, with the parser bypassed: it still cannot reach past the caller's rows.

Each attack the guard refuses is run here straight on a connection from
:func:`harmonize.discovery.dataconnect.engine.connect`, as if a query slipped past the
parser: DuckDB itself refuses it (no file access, configuration locked, no extension
loading), and the only rows it holds are those of the submissions the scope opens.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from harmonize.discovery.dataconnect import engine
from harmonize.discovery.dataconnect.access import Scope, submission_access
from harmonize.discovery.dataconnect.config import DataConnectSettings
from harmonize.drs.registry import Registry
from harmonize.warehouse import Warehouse, current
from harmonize.warehouse.duck import extension_path
from tests.dataconnect.conftest import ISOD, OTHER, Published
from tests.dataconnect.test_search import a_data_file
from tests.drs.passport_kit import VISA_TEMPLATE

SETTINGS = DataConnectSettings(memory_limit="256MB", timeout_seconds=5)


@pytest.fixture
def con(published: Published) -> Iterator[Any]:
    registry = Registry(published.settings.registry)
    grants = {VISA_TEMPLATE.format(dataset=ISOD)}
    scope = Scope.of(
        submission_access(registry), grants, lambda dataset: VISA_TEMPLATE.format(dataset=dataset)
    )
    connection = engine.connect(
        Warehouse.of(published.settings), current(registry), scope, SETTINGS
    )
    yield connection
    engine.close(connection)
    registry.dispose()


def refused(con: Any, sql: str) -> str:
    with pytest.raises(engine.QueryFailed) as failed:
        engine.run(con, sql, timeout=5)
    return str(failed.value)


def test_no_file_is_readable_not_even_the_warehouse(con: Any, published: Published) -> None:
    other = a_data_file(published, OTHER)
    mine = a_data_file(published, ISOD)  # even a file of a granted dataset: not by path
    for sql in (
        "SELECT * FROM read_csv('/etc/passwd')",
        f"SELECT * FROM read_parquet('{other}')",
        f"SELECT * FROM read_parquet('{mine}')",
        f"SELECT * FROM '{other}'",
        "SELECT * FROM glob('/etc/*')",
        f"SELECT * FROM delta_scan('{other.rsplit('/submission_id=', 1)[0]}')",  # not loaded
        "SELECT * FROM read_text('/etc/hostname')",
    ):
        reason = refused(con, sql)
        assert "disabled by configuration" in reason or "not in the catalog" in reason, sql


def test_nothing_can_be_written_attached_installed_or_loaded(con: Any, tmp_path: Any) -> None:
    assert "Permission" in refused(con, f"COPY (SELECT 1) TO '{tmp_path}/x.csv'")
    assert not (tmp_path / "x.csv").exists()
    assert "Permission" in refused(con, f"ATTACH '{tmp_path}/x.db' AS x")
    assert "Permission" in refused(con, "INSTALL httpfs")
    assert "disabled" in refused(con, "LOAD httpfs")
    assert "disabled" in refused(con, f"LOAD '{extension_path('delta')}'")


def test_the_configuration_is_locked(con: Any) -> None:
    limit = engine.run(con, "SELECT current_setting('memory_limit') AS m", timeout=5)
    assert limit.column("m")[0].as_py() in ("256.0 MiB", "244.1 MiB", "256MB")
    access = engine.run(con, "SELECT current_setting('enable_external_access') AS a", timeout=5)
    assert access.column("a")[0].as_py() is False
    for sql in (
        "SET memory_limit = '64GB'",
        "SET enable_external_access = true",
        "PRAGMA threads=8",
        "RESET memory_limit",
    ):
        assert "locked" in refused(con, sql), sql


def test_only_readable_rows_are_there(con: Any) -> None:
    datasets = engine.run(con, "SELECT DISTINCT dataset FROM __harmonize_individuals", timeout=5)
    assert OTHER not in datasets.column("dataset").to_pylist()
    assert ISOD in datasets.column("dataset").to_pylist()
    assert "does not exist" in refused(con, f'SELECT * FROM "{OTHER}".individuals')


def test_a_long_statement_is_interrupted(con: Any) -> None:
    sql = (
        "SELECT count(*) FROM (SELECT unnest(range(1000000)) AS a) AS x, "
        "(SELECT unnest(range(1000000)) AS b) AS y"
    )
    with pytest.raises(engine.QueryFailed, match=r"ran past the 0\.3 s limit"):
        engine.run(con, sql, timeout=0.3)


def test_no_python_variable_is_taken_for_a_table(con: Any) -> None:
    import pyarrow as pa

    secret = pa.table({"x": ["a caller must never read this"]})  # noqa: F841
    assert "does not exist" in refused(con, "SELECT * FROM secret")
