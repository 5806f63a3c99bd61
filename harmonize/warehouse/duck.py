"""DuckDB over the published tables, offline: an engine we did not write reads them.

DuckDB's ``delta`` extension ships as a PyPI wheel (``duckdb-extension-delta``) whose
version equals DuckDB's; it is loaded from that wheel by path, with automatic extension
installs and loads off, so nothing is ever downloaded. :func:`attach` makes one view per
table at the Delta versions a publication recorded (``delta_scan(..., version => N)``),
so a query sees every table as that one publication left it.

A warehouse on S3 (``s3://bucket/prefix``) is read through the ``httpfs`` extension (its
wheel, ``duckdb-extension-httpfs``) and a DuckDB S3 secret scoped to the warehouse, made
from boto3's credentials and region, the ones every other S3 call of Harmonize uses
(:func:`reach`). The delta extension takes its S3 credentials, region and endpoint from
that secret.

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


def connect(
    *, extensions: tuple[str, ...] = ("delta",), warehouse: Warehouse | None = None, **config: Any
) -> Any:
    """An in-memory DuckDB connection with ``extensions`` loaded from their wheels, able to
    read ``warehouse`` (see :func:`reach`) when one is given."""
    import duckdb

    settings: dict[str, Any] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        **config,
    }
    con = duckdb.connect(config=settings)
    for name in extensions:
        con.execute(f"LOAD '{extension_path(name)}'")
    if warehouse is not None:
        reach(con, warehouse)
    return con


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def s3_secret(scope: str, endpoint_url: str | None) -> str:
    """``CREATE OR REPLACE SECRET`` for S3 under ``scope`` with boto3's credentials and
    region, at ``endpoint_url`` (path-style URLs, no TLS for ``http://``) when one is set."""
    from urllib.parse import urlsplit

    import boto3

    session = boto3.session.Session()
    options = {"REGION": session.region_name or "us-east-1", "SCOPE": scope}
    credentials = session.get_credentials()
    if credentials is not None:
        frozen = credentials.get_frozen_credentials()
        options.update(KEY_ID=frozen.access_key, SECRET=frozen.secret_key)
        if frozen.token:
            options["SESSION_TOKEN"] = frozen.token
    if endpoint_url:
        parts = urlsplit(endpoint_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigurationError(
                f"S3 endpoint {endpoint_url!r} is not an http:// or https:// URL",
                hint="set HARMONIZE_S3_ENDPOINT_URL to e.g. http://localhost:9000",
            )
        options.update(ENDPOINT=parts.netloc, URL_STYLE="path")
    fields = ", ".join(f"{key} {_quote(value)}" for key, value in options.items())
    use_ssl = "false" if endpoint_url and endpoint_url.startswith("http://") else "true"
    return f"CREATE OR REPLACE SECRET harmonize_warehouse (TYPE s3, {fields}, USE_SSL {use_ssl})"


def reach(con: Any, warehouse: Warehouse) -> None:
    """Let ``con`` read ``warehouse``: nothing to do on local disk; on S3, load ``httpfs``
    and (re)make the S3 secret, so fresh credentials replace expired ones."""
    from harmonize.warehouse.files import S3Files

    files = warehouse.files
    if not isinstance(files, S3Files):
        return
    con.execute(f"LOAD '{extension_path('httpfs')}'")
    con.execute(s3_secret(files.uri(""), files.endpoint_url))


def attach(con: Any, warehouse: Warehouse, view: View, tables: tuple[str, ...] = TABLES) -> None:
    """One view per table, at the Delta version ``view``'s publication recorded."""
    reach(con, warehouse)
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
