"""``infra/postgres.sh``, as the test session's server uses it."""

from __future__ import annotations

import subprocess

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.support.postgres import SCRIPT, PostgresServer

pytestmark = pytest.mark.integration


def _script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_url_and_a_second_start_name_the_running_server(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    assert postgres_url.startswith("postgresql+psycopg://postgres@127.0.0.1:")
    assert _script("url", str(postgres_server.directory)).stdout.strip() == postgres_url
    again = _script("start", str(postgres_server.directory))
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == postgres_url  # no second server, same port
    url = make_url(postgres_url)
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname=url.database
    ) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("harmonize",)


def test_fresh_databases_are_empty_and_separate(
    postgres_server: PostgresServer, fresh_postgres_url: str
) -> None:
    assert make_url(fresh_postgres_url).database != "harmonize"
    url = make_url(fresh_postgres_url)
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname=url.database
    ) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    assert tables == (0,)


def test_usage_errors_are_reported() -> None:
    assert _script("bogus", "/tmp/x").returncode == 2
    missing = _script("url", "/nonexistent/harmonize-pg")
    assert missing.returncode == 1
    assert "no server in /nonexistent/harmonize-pg" in missing.stderr
