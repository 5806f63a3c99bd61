"""POST /search: who may search, what runs, and every attack refused with a clear error, logged."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from harmonize.warehouse import Warehouse
from tests.dataconnect.conftest import API, ISOD, OTHER, PUBLIC, Published, bearer, individuals
from tests.dataconnect.spec import Schemas

LOGGER = "harmonize.discovery.dataconnect"


def search(client: TestClient, query: str, *datasets: str, **body: Any) -> Any:
    headers = bearer(*datasets) if datasets else {}
    return client.post(f"{API}/search", json={"query": query, **body}, headers=headers)


def a_data_file(published: Published, dataset: str) -> str:
    """The path of a Parquet file of ``dataset``'s individuals in the warehouse."""
    root = Path(Warehouse.of(published.settings).tables.uri("individuals"))
    submission = OTHER if dataset == OTHER else "suox-isod"
    return str(next((root / f"submission_id={submission}").glob("*.parquet")))


def test_search_needs_a_controlled_grant(client: TestClient, spec: Schemas) -> None:
    query = "SELECT count(*) AS n FROM individuals"
    assert "bearer token" in spec.error(search(client, query), 401)
    assert "ControlledAccessGrants" in spec.error(search(client, query, PUBLIC), 403)
    assert "carry none" in spec.error(search(client, query, "never-published"), 403)


def test_search_reads_the_public_and_granted_datasets(
    client: TestClient, published: Published, spec: Schemas
) -> None:
    response = search(
        client, "SELECT dataset, count(*) AS n FROM individuals GROUP BY dataset ORDER BY 1", ISOD
    )
    assert response.status_code == 200, response.text
    page = response.json()
    spec.check(page, "TableData")
    expected = {d: len(individuals(published.settings, d)) for d in (ISOD, PUBLIC)}
    assert {row["dataset"]: int(row["n"]) for row in page["data"]} == expected
    assert page["data_model"]["properties"]["n"] == {"type": ["string", "null"]}  # bigint
    one = search(client, f'SELECT phenopacket_id FROM "{ISOD}".individuals', ISOD).json()
    assert {row["phenopacket_id"] for row in one["data"]} == individuals(published.settings, ISOD)


def test_positional_parameters(client: TestClient, published: Published, spec: Schemas) -> None:
    query = "SELECT phenopacket_id FROM individuals WHERE dataset = ? AND true = ?"
    page = search(client, query, ISOD, parameters=[ISOD, True]).json()
    spec.check(page, "TableData")
    assert {r["phenopacket_id"] for r in page["data"]} == individuals(published.settings, ISOD)
    detail = spec.error(search(client, query, ISOD, parameters=[ISOD]), 400)
    assert "2 ? placeholder(s) but 1 parameter(s)" in detail


def test_results_page_with_next_page_url(
    make_client: Callable[..., TestClient], published: Published, spec: Schemas
) -> None:
    client = make_client(page_size=4)
    response = search(client, "SELECT phenopacket_id FROM individuals ORDER BY 1", ISOD)
    seen: list[str] = []
    while True:
        assert response.status_code == 200, response.text
        page = response.json()
        spec.check(page, "TableData")
        seen += [row["phenopacket_id"] for row in page["data"]]
        url = page.get("pagination", {}).get("next_page_url")
        if url is None:
            break
        response = client.get(url, headers=bearer(ISOD))
    expected = individuals(published.settings, ISOD) | individuals(published.settings, PUBLIC)
    assert seen == sorted(expected)
    first = search(client, "SELECT phenopacket_id FROM individuals", ISOD).json()
    later = client.get(first["pagination"]["next_page_url"])  # no credentials: no page
    spec.error(later, 401)


ATTACKS = {
    "read_csv": ("SELECT * FROM read_csv('/etc/passwd')", "function read_csv is not allowed"),
    "read_csv_auto": ("SELECT * FROM read_csv_auto('/etc/passwd')", "read_csv_auto is not"),
    "read_parquet in a subquery": (
        "SELECT (SELECT count(*) FROM read_parquet('/tmp/x.parquet')) AS n",
        "function read_parquet is not allowed",
    ),
    "glob": ("SELECT * FROM glob('/etc/*')", "function glob is not allowed"),
    "glob as a scalar": ("SELECT glob('/*') AS x", "function glob is not allowed"),
    "a file as a table": ("SELECT * FROM '/etc/passwd'", "/etc/passwd is not one you may read"),
    "LATERAL table function": (
        "SELECT * FROM individuals, LATERAL read_text('/etc/hostname')",
        "LATERAL takes a subquery here, not a table function",
    ),
    "delta_scan": ("SELECT * FROM delta_scan('/tmp')", "function delta_scan is not allowed"),
    "query()": ("SELECT * FROM query('SELECT 1')", "function query is not allowed"),
    "settings": ("SELECT * FROM duckdb_settings()", "duckdb_settings is not allowed"),
    "getenv": ("SELECT getenv('HOME') AS home", "function getenv is not allowed"),
    "COPY": ("COPY individuals TO '/tmp/out.csv'", "only a SELECT query may run here, not COPY"),
    "COPY a query": ("COPY (SELECT 1) TO '/tmp/x.csv'", "not COPY"),
    "ATTACH": ("ATTACH '/tmp/other.db' AS other", "not ATTACH"),
    "INSTALL": ("INSTALL httpfs", "not INSTALL"),
    "LOAD": ("LOAD httpfs", "not LOAD"),
    "PRAGMA": ("PRAGMA threads=8", "not PRAGMA"),
    "SET": ("SET memory_limit = '64GB'", "not SET"),
    "RESET": ("RESET memory_limit", "only a SELECT query may run here"),
    "CALL": ("CALL pragma_version()", "not CALL"),
    "SELECT INTO": ("SELECT * INTO stolen FROM individuals", "SELECT ... INTO"),
    "CREATE": ("CREATE TABLE t AS SELECT 1", "only a SELECT query may run here"),
    "two statements": ("SELECT 1; SELECT 2", "one statement per request: this query has 2"),
    "a statement after": (
        "SELECT 1 AS x; COPY individuals TO '/tmp/out.csv'",
        "one statement per request",
    ),
    "catalog": ("SELECT * FROM memory.main.individuals", "names a catalog"),
    "information_schema": (
        "SELECT * FROM information_schema.tables",
        "information_schema.tables is not one you may read",
    ),
    "the hidden source": (
        "SELECT * FROM __harmonize_individuals",
        "__harmonize_individuals is not one you may read",
    ),
    "not SQL": ("SELEKT * FROM individuals", "not valid SQL"),
    "deep nesting": ("SELECT " + "(" * 3000 + "1" + ")" * 3000, "nests too deeply"),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attacks_are_refused_and_logged(
    attack: str, client: TestClient, spec: Schemas, caplog: pytest.LogCaptureFixture
) -> None:
    query, reason = ATTACKS[attack]
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        detail = spec.error(search(client, query, ISOD), 400)
    assert reason in detail
    assert any(
        "search refused" in r.getMessage() and reason in r.getMessage() for r in caplog.records
    )


def test_a_path_in_the_warehouse_is_refused_too(
    client: TestClient, published: Published, spec: Schemas, caplog: pytest.LogCaptureFixture
) -> None:
    """The data files of a dataset the caller may not read, by their real paths."""
    path = a_data_file(published, OTHER)
    for query in (
        f"SELECT * FROM read_parquet('{path}')",
        f"SELECT * FROM '{path}'",
        f"SELECT * FROM glob('{Path(path).parent}/*')",
    ):
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            spec.error(search(client, query, ISOD), 400)
        assert "search refused" in caplog.records[-1].getMessage()


def test_a_dataset_not_granted_is_refused(
    client: TestClient, spec: Schemas, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        detail = spec.error(search(client, f'SELECT * FROM "{OTHER}".individuals', ISOD), 400)
    assert f"table {OTHER}.individuals is not one you may read" in detail
    assert OTHER in caplog.records[-1].getMessage()
    # its rows are not in the all-datasets tables either
    page = search(
        client, "SELECT count(*) AS n FROM individuals WHERE dataset = ?", ISOD, parameters=[OTHER]
    ).json()
    assert page["data"] == [{"n": "0"}]
    # with both visas, both are there
    both = search(client, f'SELECT count(*) AS n FROM "{OTHER}".individuals', ISOD, OTHER).json()
    assert int(both["data"][0]["n"]) > 0


def test_a_query_past_the_timeout_is_stopped(
    make_client: Callable[..., TestClient], spec: Schemas, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(timeout_seconds=0.5)
    query = (
        "SELECT count(*) AS n FROM (SELECT unnest(range(1000000)) AS a) AS x, "
        "(SELECT unnest(range(1000000)) AS b) AS y, individuals"
    )
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        detail = spec.error(search(client, query, ISOD), 400)
    assert "ran past the 0.5 s limit and was stopped" in detail
    assert "search failed" in caplog.records[-1].getMessage()
    # the service answers the next query as usual
    assert search(client, "SELECT 1 AS one", ISOD).json()["data"] == [{"one": 1}]


def test_bad_bodies_name_the_field(client: TestClient, spec: Schemas) -> None:
    headers = bearer(ISOD)
    assert "query" in spec.error(client.post(f"{API}/search", json={}, headers=headers), 400)
    body = {"query": "SELECT 1", "parameters": "x"}
    response = client.post(f"{API}/search", json=body, headers=headers)
    assert "parameters" in spec.error(response, 400)
    response = client.post(f"{API}/search", content=b"{", headers=headers)
    assert "not JSON" in spec.error(response, 400)


def test_an_oversized_body_is_refused_before_it_is_read(
    make_client: Callable[..., TestClient], spec: Schemas
) -> None:
    client = make_client(max_query_chars=100)
    body = {"query": "SELECT 1", "parameters": ["x" * 100_000]}
    detail = spec.error(client.post(f"{API}/search", json=body, headers=bearer(ISOD)), 413)
    assert "send a shorter query" in detail
    long = {"query": "SELECT 1 AS " + "x" * 200}
    assert "more than the 100" in spec.error(
        client.post(f"{API}/search", json=long, headers=bearer(ISOD)), 400
    )


def test_queries_past_the_concurrency_limit_get_503(
    make_client: Callable[..., TestClient], spec: Schemas
) -> None:
    client = make_client(max_concurrent=1, queue_seconds=0.1)
    slots = client.app.state.data_connect.slots  # type: ignore[attr-defined]
    assert slots.acquire(timeout=1)  # one query is running
    try:
        response = search(client, "SELECT 1 AS one", ISOD)
        assert "all 1 query slots are busy" in spec.error(response, 503)
        assert response.headers["Retry-After"] == "10"
        spec.error(client.get(f"{API}/table/individuals/data"), 503)
    finally:
        slots.release()
    assert search(client, "SELECT 1 AS one", ISOD).json()["data"] == [{"one": 1}]
