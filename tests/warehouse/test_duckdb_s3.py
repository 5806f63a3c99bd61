"""DuckDB reads the published tables of a warehouse on S3 (moto): httpfs and an S3 secret."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from harmonize.discovery.tables import attach_pinned
from harmonize.drs.registry import Registry
from harmonize.errors import ConfigurationError
from harmonize.settings import Settings
from harmonize.warehouse import TABLES, Warehouse, current, view_at
from harmonize.warehouse.duck import attach, connect, s3_secret
from tests.support.warehouse import publish_rows


def people(*ids: str) -> pa.Table:
    return pa.table(
        {"phenopacket_id": list(ids), "subject_id": list(ids), "sex": ["FEMALE"] * len(ids)}
    )


def features(*ids: str) -> pa.Table:
    return pa.table(
        {
            "phenopacket_id": list(ids),
            "subject_id": list(ids),
            "term_id": ["HP:0001250"] * len(ids),
            "excluded": [False] * len(ids),
        }
    )


def test_duckdb_reads_the_current_tables_on_s3(
    tmp_path: Path, moto_endpoint: str, warehouse_bucket: str
) -> None:
    settings = Settings(
        workspace=tmp_path / "ws",
        warehouse_url=f"s3://{warehouse_bucket}/warehouse",
        s3_endpoint_url=moto_endpoint,
    )
    first = publish_rows(
        settings, "a", {"individuals": people("a1", "a2"), "phenotypic_features": features("a1")}
    )
    publish_rows(settings, "b", {"individuals": people("b1")}, consent=["DUO:0000042"])
    publish_rows(settings, "a", {"individuals": people("a1")}, version=2)  # a shrinks
    registry = Registry(settings.registry)
    warehouse = Warehouse.of(settings)
    assert warehouse.tables.uri("individuals").startswith(f"s3://{warehouse_bucket}/")
    now = current(registry)

    con = connect(warehouse=warehouse)
    secret = con.execute(
        "SELECT type, scope FROM duckdb_secrets() WHERE name = 'harmonize_warehouse'"
    ).fetchone()
    assert secret == ("s3", [f"s3://{warehouse_bucket}/warehouse/"])
    attach(con, warehouse, now)
    for name in TABLES:
        ours = warehouse.read(name, now).num_rows
        assert con.execute(f'SELECT count(*) FROM "{name}"').fetchone() == (ours,), name
    rows = con.execute(
        "SELECT submission_id, submission_version, count(*) FROM individuals "
        "GROUP BY ALL ORDER BY 1"
    ).fetchall()
    assert rows == [("a", 2, 1), ("b", 1, 1)]
    attach(con, warehouse, view_at(registry, first))  # the past, from S3 too
    assert con.execute("SELECT count(*) FROM individuals").fetchone() == (2,)
    assert con.execute("SELECT count(*) FROM phenotypic_features").fetchone() == (1,)

    pinned = connect()  # the Beacon's way: ATTACH ... (TYPE delta, PIN_SNAPSHOT)
    attach_pinned(pinned, warehouse, now)
    for name in TABLES:
        ours = warehouse.read(name, now).num_rows
        assert pinned.execute(f'SELECT count(*) FROM "{name}"').fetchone() == (ours,), name
    registry.dispose()


def test_s3_secret_follows_the_endpoint(moto_endpoint: str) -> None:
    con = connect(extensions=("httpfs",), allow_unredacted_secrets=True)
    con.execute(s3_secret("s3://bucket-x/wh/", "https://minio.example:9000"))
    row = con.execute(
        "SELECT secret_string FROM duckdb_secrets(redact := false) "
        "WHERE name = 'harmonize_warehouse'"
    ).fetchone()
    assert row is not None
    text = row[0]
    assert "endpoint=minio.example:9000" in text
    assert "use_ssl=true" in text
    assert "url_style=path" in text
    assert "key_id=testing" in text  # boto3's credentials (moto_endpoint sets them)
    assert "secret=testing" in text
    assert "region=us-east-1" in text
    with pytest.raises(ConfigurationError, match="not an http:// or https:// URL"):
        s3_secret("s3://bucket-x/", "minio.example:9000")
