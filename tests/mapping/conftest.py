"""Shared fixtures for the profile tests: ontologies loaded once, workspaces that reuse them.

Every ingest gets a fresh workspace whose ``cache`` directory is a link to the session's
ontology cache, so HPO is compiled once per session and, because :class:`Ontologies` is
memoized by the resolved cache path, loaded once per process too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml

from harmonize.ontology import Ontologies, TermIndex
from harmonize.pipeline import IngestResult, ingest
from harmonize.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
ONTOLOGIES_DIR = ROOT / "ontologies"
SUBMISSIONS = ROOT / "tests" / "data" / "submissions"


@pytest.fixture(scope="session")
def ontologies(ontology_cache: Path) -> Ontologies:
    """The repository's pinned ontologies, with HPO compiled (or read) once.

    ``ontology_cache`` is the session-wide cache of ``tests/conftest.py``.
    """
    loaded = Ontologies.load(ONTOLOGIES_DIR, ontology_cache)
    loaded.get("HP")
    return loaded


@pytest.fixture(scope="session")
def hp(ontologies: Ontologies) -> TermIndex:
    return ontologies.get("HP")


def new_workspace(root: Path, ontologies: Ontologies) -> Path:
    """An empty workspace under ``root`` whose ontology cache is the session's."""
    workspace = root / "workspace"
    workspace.mkdir(parents=True)
    (workspace / "cache").symlink_to(ontologies.cache_dir.resolve(), target_is_directory=True)
    return workspace


@pytest.fixture
def workspace(tmp_path: Path, ontologies: Ontologies) -> Path:
    return new_workspace(tmp_path, ontologies)


@pytest.fixture
def settings(workspace: Path) -> Callable[..., Settings]:
    """Settings for ``workspace``: no Data Docs, and no Great Expectations unless asked."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {"data_docs": False, "run_great_expectations": False}
        values.update(overrides)
        return Settings(workspace=workspace, **values)

    return make


@dataclass
class Outcome:
    """An ingest's result with readers for what it published and reported."""

    result: IngestResult
    settings: Settings

    @property
    def sid(self) -> str:
        return self.result.submission_id

    @property
    def report(self) -> dict[str, Any]:
        assert self.result.report_json is not None
        data: dict[str, Any] = json.loads(self.result.report_json.read_text())
        return data

    def report_counts(self) -> dict[str, int]:
        """The report's findings per level, as :meth:`QualityReport.counts` counts them."""
        from harmonize.quality.findings import QualityReport

        return QualityReport.model_validate(self.report).counts()

    def findings(self, category: str, level: str | None = None) -> list[dict[str, Any]]:
        return [
            f
            for f in self.report["findings"]
            if f["category"] == category and (level is None or f["level"] == level)
        ]

    @property
    def phenopackets_dir(self) -> Path:
        """The current version's Phenopackets."""
        root = self.settings.published_dir / "phenopackets" / self.sid
        versions = sorted(root.glob("v*"), key=lambda p: int(p.name[1:]))
        return versions[-1] if versions else root / "v1"

    def documents(self) -> dict[str, dict[str, Any]]:
        """Published phenopackets by id."""
        docs = [json.loads(p.read_text()) for p in sorted(self.phenopackets_dir.glob("*.json"))]
        return {d["id"]: d for d in docs}

    def table(self, name: str) -> pa.Table:
        """This submission's rows of a published table, as the current publication has them."""
        import pyarrow.compute as pc

        from harmonize.drs.registry import Registry
        from harmonize.warehouse import Warehouse, current

        registry = Registry(self.settings.registry)
        try:
            rows = Warehouse.of(self.settings).read(name, current(registry))
        finally:
            registry.dispose()
        return rows.filter(pc.equal(rows.column("submission_id"), self.sid))

    def rows(self, name: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.table(name).to_pylist()
        return rows


def run_ingest(source: Path, settings: Settings, **kwargs: Any) -> Outcome:
    return Outcome(ingest(source, settings, **kwargs), settings)


def write_submission(
    root: Path,
    *,
    submission_id: str,
    files: dict[str, str],
    profile: str = "tabular",
    mapping: str | None = None,
) -> Path:
    """A submission directory with ``manifest.yaml`` (no checksums) and the given files."""
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    manifest: dict[str, Any] = {
        "submission_id": submission_id,
        "profile": profile,
        "access": "public",
        "files": [{"path": name} for name in files if name != mapping],
    }
    if mapping is not None:
        manifest["mapping"] = mapping
    (root / "manifest.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
    return root
