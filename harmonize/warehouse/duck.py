"""DuckDB over the published tables, offline: an engine we did not write reads them.

DuckDB's ``delta`` extension ships as a PyPI wheel (``duckdb-extension-delta``) whose
version equals DuckDB's; it is loaded from that wheel by path, with automatic extension
installs and loads off, so nothing is ever downloaded. :func:`attach` makes one view per
table at the Delta versions a publication recorded (``delta_scan(..., version => N)``),
so a query sees every table as that one publication left it.

>>> con = connect()
>>> con.execute("SELECT 1 + 1").fetchone()
(2,)
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from harmonize.errors import ConfigurationError
from harmonize.warehouse import TABLES, View, Warehouse


def extension_path(name: str) -> Path:
    """The ``.duckdb_extension`` file of wheel ``duckdb-extension-<name>``, for this DuckDB."""
    import duckdb

    try:
        package = importlib.import_module(f"duckdb_extension_{name}")
    except ImportError as exc:
        raise ConfigurationError(
            f"the DuckDB {name} extension is not installed",
            hint=f"install duckdb-extension-{name}=={duckdb.__version__}",
        ) from exc
    folder = Path(package.__file__ or "").parent / "extensions" / f"v{duckdb.__version__}"
    found = sorted(folder.glob(f"{name}.duckdb_extension"))
    if not found:
        raise ConfigurationError(
            f"no {name} extension for DuckDB {duckdb.__version__} in {folder}",
            hint=f"install duckdb-extension-{name}=={duckdb.__version__}",
        )
    return found[0]


def connect(*, extensions: tuple[str, ...] = ("delta",), **config: Any) -> Any:
    """An in-memory DuckDB connection with ``extensions`` loaded from their wheels."""
    import duckdb

    settings: dict[str, Any] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        **config,
    }
    con = duckdb.connect(config=settings)
    for name in extensions:
        con.execute(f"LOAD '{extension_path(name)}'")
    return con


def attach(con: Any, warehouse: Warehouse, view: View, tables: tuple[str, ...] = TABLES) -> None:
    """One view per table, at the Delta version ``view``'s publication recorded."""
    for name in tables:
        version = view.table_versions.get(name)
        uri = warehouse.tables.uri(name).replace("'", "''")
        if version is None:
            from harmonize.warehouse.delta import schema

            columns = ", ".join(f'NULL AS "{f.name}"' for f in schema(name))
            con.execute(f'CREATE OR REPLACE VIEW "{name}" AS SELECT {columns} WHERE false')
            continue
        con.execute(
            f'CREATE OR REPLACE VIEW "{name}" AS '
            f"SELECT * FROM delta_scan('{uri}', version => {int(version)})"
        )
