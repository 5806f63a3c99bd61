"""The review loop: held for review, a curator decides, the re-run publishes; memory persists."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from harmonize.cli import app
from harmonize.settings import Settings
from harmonize.state.review import ReviewStore

from .test_tabular_mapping import run_ingest, submit

runner = CliRunner()
CSV = "id,sex,symptoms\np1,f,Macrocephally; Seizures\np2,m,Hypotonnia; blorptastic\n"


def test_curator_decisions_are_applied_to_the_rerun_and_to_later_submissions(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    s = settings()
    first = run_ingest(submit(tmp_path, "clinic-1", CSV), s)
    assert first.result.status == "rejected"
    store = ReviewStore(s.registry)
    items = {i["raw_text"]: i for i in store.items()}
    assert set(items) == {"Macrocephally", "Hypotonnia", "blorptastic"}
    typo = items["Macrocephally"]
    assert typo["candidates"][0]["term_id"] == "HP:0000256"
    assert typo["location"]["row"] == 2 and typo["location"]["column"] == "symptoms"

    ws = ["-w", str(s.workspace)]
    listed = runner.invoke(app, ["review", "list", *ws])
    assert (
        listed.exit_code == 0 and "Macrocephally" in listed.output and "HP:0000256" in listed.output
    )
    ok = runner.invoke(app, ["review", "accept", str(typo["id"]), "--by", "dr.curator", *ws])
    assert ok.exit_code == 0, ok.output
    other = runner.invoke(
        app,
        [
            "review",
            "accept",
            str(items["Hypotonnia"]["id"]),
            "--term",
            "HP:0001252",
            "--by",
            "dr.curator",
            *ws,
        ],
    )
    assert other.exit_code == 0, other.output
    gone = runner.invoke(
        app, ["review", "unmappable", str(items["blorptastic"]["id"]), "--by", "dr.curator", *ws]
    )
    assert gone.exit_code == 0
    assert store.items() == []  # nothing left open

    again = run_ingest(submit(tmp_path / "again", "clinic-1", CSV), s)
    assert again.result.status == "published", again.report["findings"]
    curated = {m["raw"]: m for m in again.report["mappings"] if m["method"] == "curated"}
    assert curated["Macrocephally"]["term_id"] == "HP:0000256"
    assert curated["Macrocephally"]["decided_by"] == "dr.curator"
    assert curated["Hypotonnia"]["term_id"] == "HP:0001252"
    assert again.findings("curated-unmappable", "info")[0]["location"]["value"] == "blorptastic"
    methods = {r["raw_value"]: r["resolution_method"] for r in again.rows("phenotypic_features")}
    assert methods["Macrocephally"] == "curated"

    # a later submission of the same dataset reuses the decisions without review
    later = run_ingest(submit(tmp_path, "clinic-2", CSV.replace("p1", "p3").replace("p2", "p4")), s)
    assert later.result.status == "published"


def test_accepting_an_unknown_term_is_a_usage_error(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    s = settings()
    run_ingest(submit(tmp_path, "clinic-3", CSV), s)
    item = ReviewStore(s.registry).items()[0]
    bad = runner.invoke(
        app,
        [
            "review",
            "accept",
            str(item["id"]),
            "--term",
            "HP:9999999",
            "--by",
            "x",
            "-w",
            str(s.workspace),
        ],
    )
    assert bad.exit_code == 2
