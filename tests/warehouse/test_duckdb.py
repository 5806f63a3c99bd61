"""DuckDB, an engine we did not write, reads the published tables: now and as of a publication."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from harmonize.drs.registry import Registry
from harmonize.settings import Settings
from harmonize.warehouse import Warehouse, current, view_at
from harmonize.warehouse.duck import attach, connect
from tests.support.warehouse import publish_rows


def people(*ids: str) -> pa.Table:
    return pa.table(
        {"phenopacket_id": list(ids), "subject_id": list(ids), "sex": ["FEMALE"] * len(ids)}
    )


def test_duckdb_reads_every_table_at_one_publication(tmp_path: Path) -> None:
    settings = Settings(workspace=tmp_path / "ws")
    first = publish_rows(settings, "a", {"individuals": people("a1", "a2")})
    publish_rows(settings, "b", {"individuals": people("b1")}, consent=["DUO:0000042"])
    publish_rows(settings, "a", {"individuals": people("a1")}, version=2)  # a shrinks
    registry = Registry(settings.registry)
    warehouse = Warehouse.of(settings)
    con = connect()

    attach(con, warehouse, current(registry))
    rows = con.execute(
        "SELECT submission_id, submission_version, count(*) FROM individuals "
        "GROUP BY ALL ORDER BY 1"
    ).fetchall()
    assert rows == [("a", 2, 1), ("b", 1, 1)]
    ours = warehouse.read("individuals", current(registry)).num_rows
    assert con.execute("SELECT count(*) FROM individuals").fetchone() == (ours,)
    consent = con.execute("SELECT consent FROM individuals WHERE submission_id = 'b'").fetchone()
    assert consent == (["DUO:0000042"],)

    attach(con, warehouse, view_at(registry, first))  # as the first publication left them
    assert con.execute("SELECT count(*) FROM individuals").fetchone() == (2,)
    assert con.execute("SELECT count(*) FROM measurements").fetchone() == (0,)
