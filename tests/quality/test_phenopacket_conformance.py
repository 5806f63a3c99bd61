"""Every Phenopacket we publish passes the official v2 JSON Schema, ``harmonize validate``
and the GA4GH reference validator, with zero errors.

This publishes every sample submission (``tests/data/submissions``), every real
phenopacket-store cohort (``tests/data/phenopacket-store``: the curators' spreadsheets
through ``hpo-case-template``, one cohort's curated Phenopackets through ``phenopacket``),
and the time-form inputs of every profile, then checks each published file.
(``tests/conftest.py`` also checks, at the end of every test session, each Phenopacket
any test published against the JSON Schema.)
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harmonize.pipeline import ingest
from harmonize.quality.schema import schema_errors
from harmonize.quality.validate import validate_files
from harmonize.settings import Settings
from tests.mapping.test_times import CSV, MAPPING, _case_file
from tests.support.pxf import needs_pxf, pxf_errors

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"


def _inputs(tmp: Path) -> list[tuple[str, Path, dict[str, str]]]:
    """(label, source, ingest options) for everything this test publishes."""
    out: list[tuple[str, Path, dict[str, str]]] = [
        (p.name, p, {}) for p in sorted((DATA / "submissions").iterdir()) if p.is_dir()
    ]
    for xlsx in sorted((DATA / "phenopacket-store").glob("*/input/*.xlsx")):
        out.append((xlsx.stem, xlsx, {"profile": "hpo-case-template"}))
    curated = DATA / "phenopacket-store" / "MPV17" / "current" / "phenopackets"
    out.append(("MPV17-curated", curated, {"profile": "phenopacket"}))
    out.append(("times-case", _case_file(tmp / "times.csv"), {"profile": "hpo-case-template"}))
    tabular = tmp / "times-tabular"
    tabular.mkdir()
    (tabular / "cases.csv").write_text(CSV)
    (tabular / "mapping.yaml").write_text(MAPPING)
    out.append(
        ("times-tabular", tabular / "cases.csv", {"profile": "tabular", "mapping": "mapping.yaml"})
    )
    return out


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, ontology_cache: Path) -> list[Path]:
    tmp = tmp_path_factory.mktemp("conformance")
    settings = Settings(
        workspace=tmp / "ws",
        ontology_cache=ontology_cache,
        on_conflict="keep-observed",  # what curators do; the AIRE cohort needs it
        data_docs=False,
    )
    statuses = {}
    for label, source, options in _inputs(tmp):
        mapping = options.get("mapping")
        result = ingest(
            source,
            settings,
            profile=options.get("profile"),
            mapping=source.parent / mapping if mapping else None,
        )
        statuses[label] = result.status
    # the cohorts that reject do so for a row without individual_id, as submitted
    assert {k for k, v in statuses.items() if v != "published"} <= {
        "CHD8_IDDAM_individuals",
        "MPV17_MTDPS6_individuals",
    }, statuses
    files = sorted((settings.published_dir / "phenopackets").rglob("*.json"))
    assert len(files) > 300
    return files


def test_every_published_phenopacket_passes_the_json_schema(published: list[Path]) -> None:
    broken = {
        str(p): [f"{e.path}: {e.message}" for e in errors]
        for p in published
        if (errors := schema_errors(json.loads(p.read_text())))
    }
    assert broken == {}


def test_every_published_phenopacket_passes_harmonize_validate(
    published: list[Path], ontology_cache: Path, tmp_path: Path
) -> None:
    report = validate_files(published, Settings(workspace=tmp_path, ontology_cache=ontology_cache))
    errors = [
        f"{f.location.describe()}: {f.message}" for f in report.findings if f.level == "error"
    ]
    assert errors == []
    # every document was read (an id published by two submissions counts once)
    ids = {json.loads(p.read_text())["id"] for p in published}
    assert report.stats["phenopackets"] == len(ids)


@needs_pxf
def test_every_published_phenopacket_passes_the_reference_validator(
    published: list[Path],
) -> None:
    errors = pxf_errors(*published)
    assert errors == [], "\n".join(",".join(row) for row in errors[:20])
