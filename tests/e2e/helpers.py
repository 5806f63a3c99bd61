"""Helpers for the end-to-end tests: unique submissions, waiting for result events."""

from __future__ import annotations

import shutil
import time
import uuid
from pathlib import Path
from typing import Any

from harmonize.events import open_bus, parse_envelope


def unique_submission(template: Path, into: Path, prefix: str) -> tuple[Path, str]:
    """A copy of ``template`` under a fresh submission id (same data files)."""
    sid = f"{prefix}-{uuid.uuid4().hex[:8]}"
    target = into / sid
    shutil.copytree(template, target)
    manifest = target / "manifest.yaml"
    lines = manifest.read_text().splitlines()
    lines = [f"submission_id: {sid}" if ln.startswith("submission_id:") else ln for ln in lines]
    manifest.write_text("\n".join(lines) + "\n")
    return target, sid


def wait_for(
    url: str, topic: str, predicate: Any, *, count: int = 1, timeout_s: float = 180
) -> list[Any]:
    """Envelopes on ``topic`` (read from the start) matching ``predicate``, ``count`` of them."""
    bus = open_bus(url)
    group = f"e2e-{uuid.uuid4().hex[:10]}"
    found: list[Any] = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline and len(found) < count:
            for message in bus.consume(topic, group=group, timeout_s=1.0, max_messages=100):
                try:
                    envelope = parse_envelope(message.value)
                except Exception:
                    continue
                if predicate(envelope):
                    found.append(envelope)
    finally:
        bus.close()
    if len(found) < count:
        raise AssertionError(f"{len(found)} of {count} events on {topic} in {timeout_s:.0f} s")
    return found


def for_submission(sid: str) -> Any:
    return lambda envelope: envelope.data.get("submission_id") == sid
