"""Release diffs and their impact on a (hand-written) published workspace."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from harmonize.cli import app
from harmonize.mapping.tables import conform
from harmonize.ontology import TermIndex
from harmonize.ontology.diff import affected_publications, diff_releases, load_release
from harmonize.settings import Settings
from tests.support.warehouse import publish_rows

runner = CliRunner()

# Real HPO 2025-01-16 stanzas, trimmed to a few synonyms, with is_a kept inside the slice.
OLD_OBO = """format-version: 1.2
data-version: hp/releases/2025-01-16
synonymtypedef: layperson "layperson term"
synonymtypedef: plural_form "plural form"
ontology: hp

[Term]
id: HP:0000001
name: All

[Term]
id: HP:0000118
name: Phenotypic abnormality
synonym: "Organ abnormality" EXACT []
is_a: HP:0000001 ! All

[Term]
id: HP:0000707
name: Abnormality of the nervous system
alt_id: HP:0001333
synonym: "Neurological abnormality" EXACT layperson []
is_a: HP:0000118 ! Phenotypic abnormality

[Term]
id: HP:0012638
name: Abnormal nervous system physiology
synonym: "Abnormality of nervous system physiology" EXACT []
is_a: HP:0000707 ! Abnormality of the nervous system

[Term]
id: HP:0001250
name: Seizure
alt_id: HP:0001275
synonym: "Epilepsy" RELATED layperson []
synonym: "Seizures" EXACT plural_form []
is_a: HP:0012638 ! Abnormal nervous system physiology

[Term]
id: HP:0002197
name: Generalized-onset seizure
synonym: "Generalized seizures" EXACT plural_form []
is_a: HP:0001250 ! Seizure

[Term]
id: HP:0001252
name: Hypotonia
synonym: "Low muscle tone" EXACT layperson []
is_a: HP:0000707 ! Abnormality of the nervous system

[Term]
id: HP:0000256
name: Macrocephaly
synonym: "Large head" EXACT layperson []
is_a: HP:0000118 ! Phenotypic abnormality

[Term]
id: HP:0000252
name: Microcephaly
synonym: "Small head circumference" EXACT layperson []
is_a: HP:0000118 ! Phenotypic abnormality

[Term]
id: HP:0001263
name: Global developmental delay
is_a: HP:0000707 ! Abnormality of the nervous system
"""


def _new_obo() -> str:
    """OLD with: one term obsoleted with a replacement, one with only `consider`, one
    relabelled, one merged into its parent (now an alt_id), one removed."""
    text = OLD_OBO.replace("releases/2025-01-16", "releases/2025-03-03")
    text = text.replace(
        "id: HP:0002197\nname: Generalized-onset seizure\n"
        'synonym: "Generalized seizures" EXACT plural_form []\n'
        "is_a: HP:0001250 ! Seizure\n",
        "id: HP:0002197\nname: obsolete Generalized-onset seizure\n"
        "is_obsolete: true\nreplaced_by: HP:0001250\n",
    )
    text = text.replace(
        "id: HP:0000256\nname: Macrocephaly\n"
        'synonym: "Large head" EXACT layperson []\n'
        "is_a: HP:0000118 ! Phenotypic abnormality\n",
        "id: HP:0000256\nname: obsolete Macrocephaly\nis_obsolete: true\nconsider: HP:0000252\n",
    )
    text = text.replace(
        "name: Global developmental delay\n", "name: Global developmental delay (GDD)\n"
    )
    text = text.replace(
        "[Term]\nid: HP:0012638\nname: Abnormal nervous system physiology\n"
        'synonym: "Abnormality of nervous system physiology" EXACT []\n'
        "is_a: HP:0000707 ! Abnormality of the nervous system\n\n",
        "",
    )
    text = text.replace("alt_id: HP:0001333\n", "alt_id: HP:0001333\nalt_id: HP:0012638\n")
    text = text.replace("is_a: HP:0012638 ! Abnormal nervous system physiology", "is_a: HP:0000707")
    text = text.replace(
        "[Term]\nid: HP:0001252\nname: Hypotonia\n"
        'synonym: "Low muscle tone" EXACT layperson []\n'
        "is_a: HP:0000707 ! Abnormality of the nervous system\n\n",
        "",
    )
    assert text.count("[Term]") == OLD_OBO.count("[Term]") - 2
    return text


@pytest.fixture()
def releases(tmp_path: Path) -> tuple[Path, Path]:
    old, new = tmp_path / "hp-old.obo", tmp_path / "hp-new.obo"
    old.write_text(OLD_OBO, encoding="utf-8")
    new.write_text(_new_obo(), encoding="utf-8")
    return old, new


@pytest.fixture()
def indexes(releases: tuple[Path, Path], tmp_path: Path) -> tuple[TermIndex, TermIndex]:
    return (
        load_release(releases[0], "HP", tmp_path / "cache"),
        load_release(releases[1], "HP", tmp_path / "cache"),
    )


def _features(*rows: tuple[str, str, str, bool, int]) -> pa.Table:
    table = pa.table(
        {
            "phenopacket_id": [r[0] for r in rows],
            "term_id": [r[1] for r in rows],
            "term_label": [r[2] for r in rows],
            "excluded": [r[3] for r in rows],
            "source_file": ["cases.csv"] * len(rows),
            "source_row": [r[4] for r in rows],
            "source_column": ["HPO"] * len(rows),
            "resolution_method": ["id"] * len(rows),
            "ontology_release": ["HP 2025-01-16"] * len(rows),
        }
    )
    return conform("phenotypic_features", table)


@pytest.fixture()
def workspace(tmp_path: Path) -> Path:
    """Two published submissions; "42" checks the submission id stays a string."""
    ws = tmp_path / "ws"
    settings = Settings(workspace=ws)
    features = _features(
        ("P1", "HP:0002197", "Generalized-onset seizure", False, 2),
        ("P1", "HP:0001250", "Seizure", False, 2),
        ("P1", "HP:0001263", "Global developmental delay", False, 2),
        ("P1", "HP:0000256", "Macrocephaly", True, 2),
        ("P2", "HP:0001252", "Hypotonia", False, 3),
        ("P2", "HP:0012638", "Abnormal nervous system physiology", False, 3),
    )
    publish_rows(settings, "SUB-1", {"phenotypic_features": features})
    # a disease row with an HPO id only to show the diseases table is scanned too
    diseases = conform(
        "diseases",
        pa.table(
            {
                "phenopacket_id": ["P3", "P3"],
                "term_id": ["OMIM:123456", "HP:0001263"],
                "term_label": ["Some syndrome", "Global developmental delay"],
                "source_file": ["cases.csv", "cases.csv"],
                "source_row": [2, 2],
                "source_column": ["disease", "disease"],
            }
        ),
    )
    seizure = _features(("P3", "HP:0001250", "Seizure", False, 2))
    publish_rows(settings, "42", {"phenotypic_features": seizure, "diseases": diseases})
    return ws


def test_diff_releases(indexes: tuple[TermIndex, TermIndex]) -> None:
    old, new = indexes
    diff = diff_releases(old, new)
    assert (diff.prefix, diff.old_release, diff.new_release) == (
        "HP",
        "HP 2025-01-16",
        "HP 2025-03-03",
    )
    assert diff.counts() == {"obsolete": 2, "merged": 1, "label": 1, "removed": 1}
    by_id = diff.changes
    assert set(by_id) == {"HP:0002197", "HP:0000256", "HP:0001263", "HP:0012638", "HP:0001252"}
    replaced = by_id["HP:0002197"]
    assert (replaced.change, replaced.replacement, replaced.replacement_label) == (
        "obsolete",
        "HP:0001250",
        "Seizure",
    )
    assert replaced.old_label == "Generalized-onset seizure"
    assert replaced.new_label == "obsolete Generalized-onset seizure"
    consider = by_id["HP:0000256"]
    assert (consider.change, consider.replacement, consider.consider) == (
        "obsolete",
        None,
        ("HP:0000252",),
    )
    relabelled = by_id["HP:0001263"]
    assert (relabelled.change, relabelled.new_label) == (
        "label",
        "Global developmental delay (GDD)",
    )
    merged = by_id["HP:0012638"]
    assert (merged.change, merged.replacement, merged.replacement_label) == (
        "merged",
        "HP:0000707",
        "Abnormality of the nervous system",
    )
    removed = by_id["HP:0001252"]
    assert (removed.change, removed.new_label, removed.replacement) == ("removed", None, None)


def test_diff_of_a_release_with_itself_is_empty(indexes: tuple[TermIndex, TermIndex]) -> None:
    old, _ = indexes
    assert diff_releases(old, old).changes == {}


def test_affected_publications(indexes: tuple[TermIndex, TermIndex], workspace: Path) -> None:
    impacts = affected_publications(diff_releases(*indexes), Settings(workspace=workspace))
    found = [(i.submission_id, i.phenopacket_id, i.table, i.term_id, i.change) for i in impacts]
    assert found == [
        ("42", "P3", "diseases", "HP:0001263", "label"),
        ("SUB-1", "P1", "phenotypic_features", "HP:0000256", "obsolete"),
        ("SUB-1", "P1", "phenotypic_features", "HP:0001263", "label"),
        ("SUB-1", "P1", "phenotypic_features", "HP:0002197", "obsolete"),
        ("SUB-1", "P2", "phenotypic_features", "HP:0001252", "removed"),
        ("SUB-1", "P2", "phenotypic_features", "HP:0012638", "merged"),
    ]
    first = next(i for i in impacts if i.term_id == "HP:0002197")
    assert (first.replacement, first.term_label, first.consider) == (
        "HP:0001250",
        "Generalized-onset seizure",
        (),
    )
    assert (first.source_file, first.source_row, first.source_column) == ("cases.csv", 2, "HPO")
    assert first.ontology_release == "HP 2025-01-16"
    assert first.phenopacket_path == "published/phenopackets/SUB-1/v1/P1.json"
    macro = next(i for i in impacts if i.term_id == "HP:0000256")
    assert (macro.replacement, macro.consider) == (None, ("HP:0000252",))
    gdd = next(i for i in impacts if i.term_id == "HP:0001263")
    assert gdd.new_label == "Global developmental delay (GDD)"


def test_nothing_published(indexes: tuple[TermIndex, TermIndex], tmp_path: Path) -> None:
    assert affected_publications(diff_releases(*indexes), Settings(workspace=tmp_path / "e")) == []


def test_cli_diff(releases: tuple[Path, Path], workspace: Path, tmp_path: Path) -> None:
    out = tmp_path / "diff.json"
    result = runner.invoke(
        app,
        [
            "ontologies",
            "diff",
            str(releases[0]),
            str(releases[1]),
            "--workspace",
            str(workspace),
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "HP 2025-01-16 -> HP 2025-03-03" in result.output
    assert "2 obsoleted (1 with a replacement), 1 merged, 1 relabelled, 1 removed" in result.output
    assert "6 published rows in 3 phenopackets of 2 submissions" in result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    latest = workspace / "reports" / "ontology-diff" / "latest.json"
    assert json.loads(latest.read_text(encoding="utf-8"))["impacts"] == document["impacts"]
    assert document["old"]["release"] == "HP 2025-01-16"
    assert document["new"]["release"] == "HP 2025-03-03"
    assert document["summary"]["changes"] == {"obsolete": 2, "merged": 1, "label": 1, "removed": 1}
    assert document["summary"]["affected_phenopackets"] == 3
    assert len(document["impacts"]) == 6 and len(document["changes"]) == 5
    impact = next(i for i in document["impacts"] if i["term_id"] == "HP:0002197")
    assert impact["replacement"] == "HP:0001250" and impact["consider"] == []
    assert impact["phenopacket_path"] == "published/phenopackets/SUB-1/v1/P1.json"
    assert list((workspace / "cache").iterdir())  # both indexes cached in the workspace


def test_cli_diff_without_publications(releases: tuple[Path, Path], tmp_path: Path) -> None:
    ws = tmp_path / "fresh"
    result = runner.invoke(app, ["ontologies", "diff", *map(str, releases), "-w", str(ws)])
    assert result.exit_code == 0, result.output
    assert "no published phenopacket uses a changed term" in result.output
    assert (ws / "reports" / "ontology-diff" / "latest.json").is_file()


def test_cli_diff_bad_release(releases: tuple[Path, Path], tmp_path: Path) -> None:
    bad = tmp_path / "bad.obo"
    bad.write_text("format-version: 1.2\n\n[Term]\nid: X:1\nis_a: \n[[[", encoding="utf-8")
    result = runner.invoke(
        app, ["ontologies", "diff", str(releases[0]), str(bad), "-w", str(tmp_path / "w")]
    )
    assert result.exit_code == 1
    assert "error" in result.output


def test_release_without_data_version_is_named_by_its_file(tmp_path: Path) -> None:
    path = tmp_path / "hp-snapshot.obo"
    path.write_text(OLD_OBO.replace("data-version: hp/releases/2025-01-16\n", ""), "utf-8")
    assert load_release(path, "HP", tmp_path / "cache").version == "hp-snapshot"
