"""DuckDB offline: its delta, avro and iceberg extensions loaded from their wheels.

The connection neither installs nor autoloads extensions; each ``.duckdb_extension`` file is
loaded by its path inside the wheel's ``extensions/v<version>/`` folder, avro before iceberg.
"""

from __future__ import annotations

import importlib.util
import statistics
import time
from pathlib import Path
from typing import Any

import duckdb

EXTENSIONS = ("delta", "avro", "iceberg")  # avro before iceberg


def extension_path(name: str) -> Path:
    spec = importlib.util.find_spec(f"duckdb_extension_{name}")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"duckdb-extension-{name} is not installed")
    folder = Path(next(iter(spec.submodule_search_locations)))
    path = folder / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if not path.exists():
        raise FileNotFoundError(f"{path} (the wheel's version must equal DuckDB's)")
    return path


def connect() -> Any:
    con = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    for name in EXTENSIONS:
        con.execute(f"LOAD '{extension_path(name)}'")
    return con


def timed_count(con: Any, sql: str, repeat: int) -> tuple[int, float]:
    """The count a query returns, and the median seconds of ``repeat`` runs."""
    times, count = [], -1
    for _ in range(repeat):
        started = time.perf_counter()
        count = con.execute(sql).fetchone()[0]
        times.append(time.perf_counter() - started)
    return int(count), statistics.median(times)
