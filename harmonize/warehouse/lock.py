"""One writer at a time: every commit to the warehouse holds this lock.

A publication, a new version and a withdrawal each change several tables and the
registry; holding one lock from the first table commit to the registry transaction
serializes them, so two changes to the same dataset never interleave and no update is
lost. Harmonizing a submission (the expensive part) happens outside the lock.

- PostgreSQL: a session-level advisory lock, so writers on different hosts exclude each
  other (the registry is the one thing they share).
- SQLite (one machine): an ``fcntl`` lock on ``WORKSPACE/warehouse.lock``.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harmonize.errors import TransientError

# pg_advisory_lock takes a bigint; this one is "harmonize" in ASCII, truncated
ADVISORY_KEY = 0x6861726D6F6E697A


@contextmanager
def warehouse_lock(registry_url: str, workspace: Path, *, timeout_s: float = 600) -> Iterator[None]:
    """Hold the warehouse's writer lock; a transient error if it is not had in ``timeout_s``."""
    if registry_url.startswith("postgresql"):
        with _advisory(registry_url, timeout_s):
            yield
        return
    workspace.mkdir(parents=True, exist_ok=True)
    fd = os.open(workspace / "warehouse.lock", os.O_CREAT | os.O_RDWR, 0o644)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TransientError(
                        f"another commit held the warehouse for over {timeout_s:.0f} s",
                        hint="retry; if it persists, look for a stuck harmonize process",
                    ) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def _advisory(url: str, timeout_s: float) -> Iterator[None]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text(f"SET lock_timeout = {int(timeout_s * 1000)}"))
            try:
                conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_KEY})
            except Exception as exc:  # a lock_timeout: another writer holds it
                raise TransientError(
                    f"another commit held the warehouse for over {timeout_s:.0f} s",
                    hint="retry; if it persists, look for a stuck harmonize process",
                ) from exc
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
                conn.commit()
    finally:
        engine.dispose()
