"""The annotation propagation rule: no published Phenopacket holds a redundant statement.

Regression: 141 of 391 Phenopackets published from seven real cohorts failed the
reference validator because a submitter excluded a term and one of its descendants
(*Seizure* and *Infantile spasms*) and both were published.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from harmonize.settings import Settings
from tests.pipeline.test_bad_input import HEADER_1, HEADER_2, ROW

from .conftest import run_ingest
from .test_phenopacket_profile import good, ingest_docs

SEIZURE, SPASMS, HYPOTONIA = "HP:0001250", "HP:0012469", "HP:0001252"
NERVOUS_PHYSIOLOGY = "HP:0012638"  # an ancestor of Seizure


def case(path: Path, seizure: str, spasms: str, hypotonia: str = "na") -> Path:
    """A one-row case template with Seizure, Infantile spasms and Hypotonia columns."""
    header1 = [*HEADER_1[:-2], "Seizure", "Infantile spasms", "Hypotonia"]
    header2 = [*HEADER_2[:-2], SEIZURE, SPASMS, HYPOTONIA]
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerows([header1, header2, [*ROW[:-2], seizure, spasms, hypotonia]])
    return path


def statements(doc: dict) -> set[tuple[str, bool]]:
    return {(f["type"]["id"], bool(f.get("excluded"))) for f in doc["phenotypicFeatures"]}


def test_the_general_exclusion_is_kept_and_the_dropped_one_reported(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    out = run_ingest(
        case(tmp_path / "c.csv", "excluded", "excluded"), settings(), profile="hpo-case-template"
    )
    assert out.result.status == "published", out.report["findings"]
    [doc] = out.documents().values()
    assert statements(doc) == {(SEIZURE, True)}
    [finding] = out.findings("redundant-exclusion")
    assert finding["level"] == "info"
    assert finding["location"]["column"] == "Infantile spasms"
    assert finding["location"]["row"] == 3 and finding["location"]["value"] == SPASMS
    assert "implied by the exclusion of its ancestor HP:0001250" in finding["message"]
    assert {r["term_id"] for r in out.rows("phenotypic_features")} == {SEIZURE}


def test_a_redundant_observed_ancestor_is_reported_too(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    out = run_ingest(
        case(tmp_path / "c.csv", "observed", "observed"), settings(), profile="hpo-case-template"
    )
    [doc] = out.documents().values()
    assert statements(doc) == {(SPASMS, False)}
    [finding] = out.findings("redundant-ancestor")
    assert finding["location"]["column"] == "Seizure" and finding["level"] == "info"


def test_keep_redundant_keeps_them_in_the_table_only(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    """``--keep-redundant``: the table keeps every statement the submitter made; the
    Phenopacket still satisfies the reference validator."""
    out = run_ingest(
        case(tmp_path / "c.csv", "excluded", "excluded"),
        settings(remove_redundant_ancestors=False),
        profile="hpo-case-template",
    )
    assert out.result.status == "published"
    [doc] = out.documents().values()
    assert statements(doc) == {(SEIZURE, True)}
    assert {r["term_id"] for r in out.rows("phenotypic_features")} == {SEIZURE, SPASMS}
    [finding] = out.findings("redundant-exclusion")
    assert "kept in the table, left out of the Phenopacket" in finding["message"]


def test_keep_observed_drops_every_contradicted_exclusion(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    """An observed term with two excluded ancestors loses both exclusions (regression:
    only the first was dropped)."""
    header1 = [*HEADER_1[:-2], "Abnormal nervous system physiology", "Seizure", "Infantile spasms"]
    header2 = [*HEADER_2[:-2], NERVOUS_PHYSIOLOGY, SEIZURE, SPASMS]
    path = tmp_path / "c.csv"
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows(
            [header1, header2, [*ROW[:-2], "excluded", "excluded", "observed"]]
        )
    out = run_ingest(path, settings(on_conflict="keep-observed"), profile="hpo-case-template")
    assert out.result.status == "published", out.report["findings"]
    [doc] = out.documents().values()
    assert statements(doc) == {(SPASMS, False)}
    assert len(out.findings("excluded-ancestor", "warning")) == 2


def test_a_submitted_phenopacket_with_redundant_statements_is_rejected(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    """Submitted Phenopackets are published as they are, so nothing can be dropped."""
    doc = good()
    doc["phenotypicFeatures"] = [
        {"type": {"id": SEIZURE, "label": "Seizure"}, "excluded": True},
        {"type": {"id": SPASMS, "label": "Infantile spasms"}, "excluded": True},
    ]
    out = ingest_docs(tmp_path, settings, "exex", doc)
    assert out.result.status == "rejected"
    [error] = out.findings("redundant-exclusion", "error")
    assert error["location"]["column"] == "phenotypicFeatures[1]"
