"""Real submissions for the review-loop and browser tests, written into a landing area."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from harmonize.pipeline import IngestResult, ingest
from harmonize.settings import Settings

MAPPING = """\
id_column: id
sex: {column: sex, values: {f: FEMALE, m: MALE}}
phenotypes:
  - column: symptoms
    separator: ";"
    excluded_prefix: "NOT "
"""
# two misspellings a curator must confirm, and a word no term matches
TYPOS_CSV = "id,sex,symptoms\np1,f,Macrocephally; Seizures\np2,m,Hypotonnia; blorptastic\n"


def write_tabular(
    landing: Path, sid: str, csv: str, *, submitter: str, dataset: str, access: str = "public"
) -> Path:
    root = landing / sid
    root.mkdir(parents=True)
    (root / "cases.csv").write_text(csv, encoding="utf-8")
    (root / "mapping.yaml").write_text(MAPPING, encoding="utf-8")
    manifest = {
        "submission_id": sid,
        "submitter": submitter,
        "dataset": dataset,
        "profile": "tabular",
        "access": access,
        "mapping": "mapping.yaml",
        "files": [{"path": "cases.csv"}],
    }
    (root / "manifest.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
    return root


def copy_sample(submissions: Path, landing: Path, name: str) -> Path:
    return Path(shutil.copytree(submissions / name, landing / name))


def pipeline_settings(workspace: Path, ontology_cache: Path) -> Settings:
    """Fast settings (no Great Expectations) whose ontology cache is the session's."""
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / "cache").symlink_to(ontology_cache.resolve(), target_is_directory=True)
    return Settings(workspace=workspace, data_docs=False, run_great_expectations=False)


def run(source: Path, settings: Settings) -> IngestResult:
    return ingest(source, settings)
