"""A process remembers which databases it found at head: the next upgrade() costs nothing."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect

from harmonize.db import current_revision, head_revision, upgrade
from harmonize.db.migrate import alembic_config


def _counting(engine: Engine) -> list[object]:
    """The connections checked out of ``engine``'s pool, one entry each."""
    opened: list[object] = []
    event.listen(engine, "checkout", lambda conn, *_: opened.append(conn))
    return opened


def test_a_database_found_at_head_is_not_queried_again(fresh_postgres_url: str) -> None:
    """A server database is remembered; a SQLite file is checked each time (one query,
    see test_a_reused_inode_is_not_at_head)."""
    database_url = fresh_postgres_url
    upgrade(database_url)  # migrates, then remembers
    engine = create_engine(database_url)
    opened = _counting(engine)
    try:
        upgrade(engine)
        upgrade(database_url)
    finally:
        engine.dispose()
    assert opened == []


def test_a_database_at_head_in_another_process_is_queried_once(fresh_postgres_url: str) -> None:
    """Migrated by someone else: the first check queries it, the second does not."""
    from sqlalchemy.engine import make_url

    url = fresh_postgres_url
    engine = create_engine(url)
    with engine.begin() as conn:  # stands in for another process: a plain Alembic run
        config = alembic_config()
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    opened = _counting(engine)
    try:
        upgrade(engine)
        assert len(opened) == 1
        upgrade(engine)
        assert len(opened) == 1
    finally:
        engine.dispose()
    assert make_url(url).get_backend_name() == "postgresql"


def test_a_reused_inode_is_not_at_head(tmp_path: Path) -> None:
    """Regression: SQLite files were remembered by (device, inode), and ext4 gives a new
    file the inode of one just deleted; a new, unmigrated registry was taken for migrated."""
    for i in range(20):
        url = f"sqlite:///{tmp_path / 'r.sqlite'}"
        upgrade(url)
        assert current_revision(url) == head_revision(), i
        (tmp_path / "r.sqlite").unlink()


def test_a_sqlite_file_created_anew_at_the_same_path_is_migrated_again(tmp_path: Path) -> None:
    """A reset workspace: the memo is keyed by the file, not by its path."""
    path = tmp_path / "ws" / "registry.sqlite"
    url = f"sqlite:///{path}"
    upgrade(url)
    path.rename(tmp_path / "old.sqlite")  # the old file lives on: the new one is another inode
    with closing(sqlite3.connect(path)) as conn:  # not empty, not migrated
        conn.execute("CREATE TABLE unrelated (x INTEGER)")
        conn.commit()
    upgrade(url)
    assert current_revision(url) == head_revision()
    path.unlink()
    upgrade(url)
    assert current_revision(url) == head_revision()
    engine = create_engine(url)
    try:
        assert "drs_objects" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_in_memory_databases_are_never_remembered() -> None:
    first, second = create_engine("sqlite://"), create_engine("sqlite://")
    upgrade(first)
    upgrade(second)  # a new, empty database: migrated too
    assert current_revision(second) == head_revision()


def test_an_upgrade_to_an_older_revision_is_not_remembered_as_head(tmp_path: Path) -> None:
    base = list(ScriptDirectory.from_config(alembic_config()).walk_revisions())[-1].revision
    assert base != head_revision()  # the package ships more than one revision
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    upgrade(url, base)
    assert current_revision(url) == base
    upgrade(url)
    assert current_revision(url) == head_revision()
