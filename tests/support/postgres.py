"""A throwaway PostgreSQL server for the test session (a pytest plugin).

The server is started by ``infra/postgres.sh`` (the one place that knows how), once per
session, in a directory under the system temp dir that the ``postgres`` user can reach.

Fixtures:

- ``postgres_url``: the session's ``harmonize`` database (shared; do not drop tables).
- ``fresh_postgres_url``: an empty database of its own for one test, dropped afterwards.
- ``database_url``: parametrized ``sqlite`` | ``postgresql``, an empty database of the
  kind; the PostgreSQL case is marked ``integration``.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "infra" / "postgres.sh"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)]


@dataclass
class PostgresServer:
    """A server started by ``infra/postgres.sh`` in ``directory``."""

    directory: Path
    url: str  # SQLAlchemy URL of the "harmonize" database
    temporary: bool = False  # the directory goes when the server stops

    @classmethod
    def start(
        cls, directory: Path, timeout: float = 120, *, host: str | None = None
    ) -> PostgresServer:
        """Start (``host``: also listening on that address, e.g. a netns bridge's)."""
        done = subprocess.run(
            [str(SCRIPT), "start", str(directory), *(["--host", host] if host else [])],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{SCRIPT.name} start failed: {done.stderr.strip()}")
        return cls(directory=directory, url=done.stdout.strip().splitlines()[-1])

    @classmethod
    def start_temporary(cls, *, host: str | None = None) -> PostgresServer:
        """A server in a new directory under the system temp dir (removed by :meth:`stop`).

        Not pytest's tmp_path: its directories are 0700 root, out of the postgres user's reach.
        """
        directory = Path(tempfile.mkdtemp(prefix="harmonize-pg-"))
        try:
            server = cls.start(directory, host=host)
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        server.temporary = True
        return server

    def stop(self) -> None:
        """Stop the server; a temporary one's directory is removed too."""
        subprocess.run([str(SCRIPT), "stop", str(self.directory)], timeout=120, check=False)
        if self.temporary:
            shutil.rmtree(self.directory, ignore_errors=True)

    def url_for(self, database: str) -> str:
        return make_url(self.url).set(database=database).render_as_string(hide_password=False)

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        """An autocommit psycopg connection to the maintenance database."""
        url = make_url(self.url)
        return psycopg.connect(
            host=url.host, port=url.port, user=url.username, dbname="postgres", autocommit=True
        )

    def create_database(self, template: str = "template0") -> str:
        """A new empty database (a copy of ``template``); its SQLAlchemy URL."""
        name = f"t_{uuid.uuid4().hex[:16]}"
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url_for(name)

    def drop_database(self, url: str) -> None:
        name = make_url(url).database
        with self.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One throwaway server for the whole session."""
    try:
        server = PostgresServer.start_temporary()
    except RuntimeError as exc:
        pytest.fail(f"cannot start the test PostgreSQL server: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """The session's shared ``harmonize`` database."""
    return postgres_server.url


@pytest.fixture
def fresh_postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """An empty database for this test alone, dropped when it ends."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each back end: SQLite in ``tmp_path``, then PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'harmonize.sqlite'}"
    url: str = request.getfixturevalue("fresh_postgres_url")
    return url
