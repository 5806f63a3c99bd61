"""Migrations: an empty database migrated to head has exactly the models' schema."""

from __future__ import annotations

import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from harmonize.db import current_revision, head_revision, upgrade
from harmonize.drs.models import Base
from harmonize.errors import RegistryError
from harmonize.state import review, store
from tests.db.models import target_metadata


def _diff(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, target_metadata()))
    finally:
        engine.dispose()


def test_migrated_schema_equals_the_models(database_url: str) -> None:
    assert current_revision(database_url) is None
    assert _diff(database_url)  # an empty database differs: every table is missing
    upgrade(database_url)
    assert current_revision(database_url) == head_revision()
    assert _diff(database_url) == []


def test_upgrade_is_idempotent(database_url: str) -> None:
    upgrade(database_url)
    upgrade(database_url)
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    finally:
        engine.dispose()
    assert versions == [(head_revision(),)]


def test_tables_from_create_all_are_adopted(database_url: str) -> None:
    """A registry made by ``create_all`` before migrations existed (registry tables only)
    keeps its rows and gains the missing tables."""
    engine = create_engine(database_url)
    try:
        Base.metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO drs_bundle_members (bundle_id, member_id, name) "
                    "VALUES ('b', 'm', 'x.json')"
                )
            )
        upgrade(engine)
        with engine.connect() as conn:
            kept = conn.execute(text("SELECT name FROM drs_bundle_members")).scalar_one()
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert kept == "x.json"
    assert set(target_metadata().tables) <= tables
    assert _diff(database_url) == []


@pytest.mark.slow
def test_concurrent_upgrades_migrate_once(database_url: str) -> None:
    """Four processes migrating one empty database at once all succeed: the database's
    lock (advisory lock / SQLite write lock) serializes them, the later ones find it done."""
    code = "import sys; from harmonize.db import upgrade; upgrade(sys.argv[1])"
    processes = [
        subprocess.Popen([sys.executable, "-c", code, database_url], stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    errors = [process.communicate(timeout=120)[1].decode() for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0, 0], errors
    assert current_revision(database_url) == head_revision()
    assert _diff(database_url) == []


def test_threads_of_one_process_upgrade_one_at_a_time(database_url: str) -> None:
    """Alembic's proxies are module-wide: concurrent upgrades in one process must not mix."""
    barrier = threading.Barrier(4)

    def race() -> None:
        barrier.wait()
        upgrade(database_url)

    with ThreadPoolExecutor(4) as pool:
        results = [pool.submit(race) for _ in range(4)]
        errors = [future.exception(timeout=120) for future in results]
    assert errors == [None] * 4
    assert current_revision(database_url) == head_revision()


def test_stores_migrate_their_database(database_url: str) -> None:
    state = store.StateStore(database_url)
    state.set_status("s1", "ab" * 32, "received")
    reviews = review.ReviewStore(database_url)
    try:
        assert current_revision(state.engine) == head_revision()
        assert [row["status"] for row in state.history("s1")] == ["received"]
        assert reviews.items() == []
    finally:
        state.engine.dispose()
        reviews.engine.dispose()


def test_unreachable_database_is_a_transient_error(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    with pytest.raises(RegistryError) as caught:
        upgrade(f"sqlite:///{blocked / 'registry.sqlite'}")
    assert caught.value.transient
