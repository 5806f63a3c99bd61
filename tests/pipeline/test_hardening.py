"""Hostile and ambiguous input is rejected by ``ingest`` with a finding, and nothing publishes.

Regression tests for the hardening issue: a 2.8 MB workbook whose sharedStrings.xml
inflated to 1.15 GB kept ``harmonize ingest`` busy until it was killed after 300 s; a CSV
with two columns of the same name was published with no finding (one column silently won).
The bombs are built by the tests, a few megabytes on disk. The timeouts are hang guards,
not timings: without the limits these runs went on for minutes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from harmonize.pipeline import ingest
from harmonize.settings import Limits, Settings
from tests.pipeline.test_bad_input import (
    HEADER_1,
    HEADER_2,
    ROW,
    assert_nothing_published,
    first_error,
    write_case,
)
from tests.support import bombs


@pytest.fixture
def settings(tmp_path: Path, ontology_cache: Path) -> Settings:
    return Settings(
        workspace=tmp_path / "ws",
        ontology_cache=ontology_cache,
        run_great_expectations=False,
        data_docs=False,
    )


def _case_bytes(header1: list[str] = HEADER_1, rows: list[list[str]] | None = None) -> bytes:
    lines = [",".join(header1), ",".join(HEADER_2)] + [",".join(row) for row in rows or [ROW]]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.timeout(60)
def test_shared_strings_bomb(tmp_path: Path, settings: Settings) -> None:
    path = bombs.shared_strings_bomb(tmp_path / "cases.xlsx")
    assert path.stat().st_size < 4_000_000
    report = assert_nothing_published(settings, ingest(path, settings, profile="hpo-case-template"))
    err = first_error(report)
    assert err["category"] == "LimitExceeded"
    assert err["location"]["file"] == "cases.xlsx"
    assert "xl/sharedStrings.xml inflates to" in err["message"]
    assert "limits.max_xlsx_part_bytes" in err["message"]
    assert "HARMONIZE_LIMIT_MAX_XLSX_PART_BYTES" in err["hint"]


@pytest.mark.timeout(60)
def test_sheet_bomb(tmp_path: Path, settings: Settings) -> None:
    path = bombs.sheet_bomb(tmp_path / "cases.xlsx", inflated=1_500_000_000)
    report = assert_nothing_published(settings, ingest(path, settings, profile="hpo-case-template"))
    err = first_error(report)
    assert err["category"] == "LimitExceeded" and err["location"]["file"] == "cases.xlsx"
    assert "xl/worksheets/sheet1.xml inflates to" in err["message"]
    assert "limits.max_zip_member_bytes" in err["message"]


@pytest.mark.timeout(60)
def test_sheet_of_too_many_rows(tmp_path: Path, settings: Settings) -> None:
    """Within the byte limits, the rows limit stops a sheet of millions of rows."""
    path = bombs.sheet_bomb(tmp_path / "cases.xlsx", inflated=200_000_000)
    # under one batch: the limit must stop the reader before a batch reaches the profile
    # (which would reject this sheet for its missing HPO column instead)
    rows = settings.batch_size // 2
    small = settings.model_copy(update={"limits": Limits(max_rows=rows)})
    report = assert_nothing_published(small, ingest(path, small, profile="hpo-case-template"))
    err = first_error(report)
    assert "limits.max_rows" in err["message"] and err["location"]["row"] == rows + 1
    assert err["location"]["sheet"] == "cases"


def test_duplicate_columns(tmp_path: Path, settings: Settings) -> None:
    """Two ``sex`` columns: the mapping read one; the other's values were silently dropped."""
    header = [*HEADER_1[:-1], "sex"]
    rows = [[*ROW[:-1], "M"]]  # the first 'sex' column says F
    root = tmp_path / "sub"
    root.mkdir()
    data = _case_bytes(header, rows)
    (root / "cases.csv").write_bytes(data)
    (root / "manifest.yaml").write_text(
        "submission_id: dup-1\nprofile: hpo-case-template\naccess: public\nfiles:\n"
        f"  - path: cases.csv\n    sha256: '{hashlib.sha256(data).hexdigest()}'\n"
    )
    report = assert_nothing_published(settings, ingest(root, settings))
    err = first_error(report)
    assert err["location"]["file"] == "cases.csv" and err["location"]["column"] == "sex"
    assert "same header" in err["message"] and err["hint"]


def test_nul_bytes(tmp_path: Path, settings: Settings) -> None:
    data = _case_bytes(rows=[ROW, [*ROW[:2], "patient\x002", *ROW[3:]]])
    path = tmp_path / "nul.csv"
    path.write_bytes(data)
    report = assert_nothing_published(settings, ingest(path, settings, profile="hpo-case-template"))
    err = first_error(report)
    assert "NUL" in err["message"]
    assert err["location"]["file"] == "nul.csv"
    assert (err["location"]["row"], err["location"]["column"]) == (4, "individual_id")
    assert err["location"]["value"] == "patient\\x002"


def test_invalid_utf8(tmp_path: Path, settings: Settings) -> None:
    """Damaged UTF-8 was transcoded as Windows-1252: 'Müller' became 'MÃ¼ller' everywhere."""
    good = [*ROW[:1], "Müller et al.", *ROW[2:]]
    bad = [*ROW[:1], "Ren\udce9e", "patient 2", *ROW[3:]]
    lines = [",".join(HEADER_1), ",".join(HEADER_2), ",".join(good), ",".join(bad)]
    path = tmp_path / "mixed.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8", "surrogateescape"))
    report = assert_nothing_published(settings, ingest(path, settings, profile="hpo-case-template"))
    err = first_error(report)
    assert "not valid UTF-8" in err["message"]
    assert (err["location"]["row"], err["location"]["column"]) == (4, "title")
    assert err["location"]["value"] == "Ren\\xe9e"


def test_too_many_files(tmp_path: Path, settings: Settings) -> None:
    root = tmp_path / "sub"
    root.mkdir()
    lines = ["profile: hpo-case-template", "access: public", "files:"]
    for index in range(3):
        path = write_case(root / f"c{index}.csv")
        lines.append(f"  - path: {path.name}")
    (root / "manifest.yaml").write_text("\n".join(lines) + "\n")
    small = settings.model_copy(update={"limits": Limits(max_files=2)})
    report = assert_nothing_published(small, ingest(root, small))
    assert "limits.max_files" in first_error(report)["message"]
