"""A workspace with a local event log and a local landing directory, per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harmonize.settings import Settings


@pytest.fixture
def settings(tmp_path: Path, ontology_cache: Path) -> Settings:
    return Settings(
        workspace=tmp_path / "ws",
        ontology_cache=ontology_cache,
        on_conflict="keep-observed",
        events_url=str(tmp_path / "events"),
        landing_url=str(tmp_path / "landing"),
    )


@pytest.fixture
def bus(settings: Settings) -> Iterator[Any]:
    from harmonize.events import open_bus

    opened = open_bus(settings.events)
    try:
        yield opened
    finally:
        opened.close()


def drain(bus: Any, topic: str, group: str = "test-reader") -> list[Any]:
    """Every message of ``topic`` not yet read by ``group``."""
    out: list[Any] = []
    while batch := bus.consume(topic, group=group, timeout_s=0.2, max_messages=100):
        out.extend(batch)
        bus.commit(group, batch)
    return out
