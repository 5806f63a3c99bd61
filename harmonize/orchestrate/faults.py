"""Fault injection for the crash tests, enabled only when an edge passes a faults directory.

A test drops ``crash-before-commit-<submission id>`` into the directory; the next run of
that submission removes the file and kills its own process (``os._exit``) once the commit
journal is written, exactly where a power cut would hurt most. The retry must then
publish the submission completely, with no partial files or registry rows.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

CRASH_BEFORE_COMMIT = "crash-before-commit-"


def crash_hook(faults_dir: Path | None, submission_id: str) -> Callable[[Path], None] | None:
    """A ``before_commit`` hook that crashes once when the test asked for it, else ``None``."""
    if faults_dir is None:
        return None
    marker = faults_dir / f"{CRASH_BEFORE_COMMIT}{submission_id}"

    def _crash(stage_root: Path) -> None:
        if marker.exists():
            marker.unlink()
            os._exit(137)

    return _crash
