"""Fixtures for the quality tests: the repository's suites and a row locator."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harmonize.quality.findings import Location

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def expectations_dir() -> Path:
    return ROOT / "expectations"


def sheet_locator(
    file: str = "cases.xlsx", sheet: str | None = "Cases", header_rows: int = 1
) -> Callable[[int], Location]:
    """Row ``i`` of the table is row ``i + header_rows + 1`` of the submitter's sheet."""

    def locate(i: int) -> Location:
        return Location(file=file, sheet=sheet, row=i + header_rows + 1)

    return locate


@pytest.fixture
def locate() -> Callable[[int], Location]:
    return sheet_locator()
