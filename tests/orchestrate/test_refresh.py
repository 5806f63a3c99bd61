"""The ontology-refresh stage: a newly placed release is diffed against the pinned one."""

from __future__ import annotations

import json
from pathlib import Path

from harmonize.orchestrate.refresh import refresh_ontologies
from harmonize.settings import Settings

ONTOLOGIES = Path(__file__).resolve().parents[2] / "ontologies"


def test_a_relabelled_term_in_a_placed_release_is_reported(tmp_path: Path) -> None:
    settings = Settings(workspace=tmp_path / "ws", ontology_cache=tmp_path / "cache")
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    pinned = (ONTOLOGIES / "ncit-slice.obo").read_text()
    assert "name: Female\n" in pinned
    (incoming / "ncit-2026-01-01.obo").write_text(
        pinned.replace("name: Female\n", "name: Female Sex\n", 1)
    )
    summaries = refresh_ontologies(settings, incoming=incoming)
    assert [s["prefix"] for s in summaries] == ["NCIT"]
    report = json.loads(Path(summaries[0]["report"]).read_text())
    changed = {c["term_id"]: c for c in report["changes"]}
    assert changed["NCIT:C16576"]["change"] == "label"
    assert changed["NCIT:C16576"]["new_label"] == "Female Sex"
    assert report["summary"]["affected_submissions"] == 0  # nothing published yet


def test_nothing_placed_nothing_reported(tmp_path: Path) -> None:
    settings = Settings(workspace=tmp_path / "ws", ontology_cache=tmp_path / "cache")
    same = tmp_path / "incoming"
    same.mkdir()
    (same / "ncit-slice.obo").write_bytes((ONTOLOGIES / "ncit-slice.obo").read_bytes())
    assert refresh_ontologies(settings, incoming=same) == []
    assert refresh_ontologies(settings, incoming=tmp_path / "missing") == []
