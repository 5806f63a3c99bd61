"""Bad input never crashes the pipeline and never publishes anything.

Each case is rejected with a report whose finding names the file (and row and column
where there is one) and says what to do.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest

from harmonize.drs.registry import Registry
from harmonize.pipeline import IngestResult, ingest
from harmonize.settings import Settings

HEADER_1 = [
    "PMID",
    "title",
    "individual_id",
    "comment",
    "disease_id",
    "disease_label",
    "HGNC_id",
    "gene_symbol",
    "transcript",
    "allele_1",
    "allele_2",
    "variant.comment",
    "age_of_onset",
    "age_at_last_encounter",
    "deceased",
    "sex",
    "HPO",
    "Seizure",
    "Hypotonia",
]
HEADER_2 = [
    "CURIE",
    "str",
    "str",
    "optional",
    "CURIE",
    "str",
    "CURIE",
    "str",
    "str",
    "str",
    "str",
    "optional",
    "age",
    "age",
    "yes/no/na",
    "M:F:O:U",
    "na",
    "HP:0001250",
    "HP:0001252",
]
ROW = [
    "PMID:1",
    "t",
    "patient 1",
    "",
    "OMIM:240300",
    "APS1",
    "HGNC:360",
    "AIRE",
    "NM_000383.4",
    "c.769C>T",
    "c.769C>T",
    "",
    "P1Y",
    "P5Y",
    "no",
    "F",
    "na",
    "observed",
    "excluded",
]


@pytest.fixture
def settings(tmp_path: Path, ontology_cache: Path) -> Settings:
    return Settings(
        workspace=tmp_path / "ws",
        ontology_cache=ontology_cache,
        run_great_expectations=False,
        data_docs=False,
    )


def write_case(path: Path, header1=HEADER_1, header2=HEADER_2, rows=(ROW,)) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header1)
        w.writerow(header2)
        w.writerows(rows)
    return path


def submission(root: Path, files: dict[str, bytes], sha: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    lines = ["submission_id: bad-1", "profile: hpo-case-template", "access: public", "files:"]
    for name, data in files.items():
        (root / name).write_bytes(data)
        digest = (sha or {}).get(name, hashlib.sha256(data).hexdigest())
        lines += [f"  - path: {name}", f"    sha256: '{digest}'"]
    (root / "manifest.yaml").write_text("\n".join(lines) + "\n")
    return root


def assert_nothing_published(settings: Settings, result: IngestResult) -> dict:
    assert result.status == "rejected"
    published = settings.workspace / "published"
    assert not published.exists() or not any(p.is_file() for p in published.rglob("*"))
    assert Registry(settings.registry).objects_for_submission(result.submission_id) == []
    staging = settings.workspace / "staging"
    assert not staging.exists() or not any(
        p.is_file() and p.name != ".lock" for p in staging.rglob("*")
    )
    report = json.loads(result.report_json.read_text())
    assert report["status"] == "rejected"
    assert result.report_html.is_file()
    return report


def first_error(report: dict) -> dict:
    return next(f for f in report["findings"] if f["level"] == "error")


def test_a_good_case_file_publishes(tmp_path: Path, settings: Settings) -> None:
    """The control: the same shape with nothing wrong is published."""
    result = ingest(write_case(tmp_path / "ok.csv"), settings, profile="hpo-case-template")
    assert result.status == "published", result.message


def test_wrong_checksum(tmp_path: Path, settings: Settings) -> None:
    data = write_case(tmp_path / "c.csv").read_bytes()
    root = submission(tmp_path / "sub", {"cases.csv": data}, sha={"cases.csv": "ab" * 32})
    report = assert_nothing_published(settings, ingest(root, settings))
    err = first_error(report)
    assert err["location"]["file"] == "cases.csv" and "sha-256 mismatch" in err["message"]
    assert err["hint"]


def test_missing_column(tmp_path: Path, settings: Settings) -> None:
    h1 = [c for c in HEADER_1 if c != "sex"]
    i = HEADER_1.index("sex")
    h2 = HEADER_2[:i] + HEADER_2[i + 1 :]
    row = ROW[:i] + ROW[i + 1 :]
    path = write_case(tmp_path / "nosex.csv", h1, h2, [row])
    report = assert_nothing_published(settings, ingest(path, settings, profile="hpo-case-template"))
    err = first_error(report)
    assert err["location"]["column"] == "sex" and err["location"]["file"] == "nosex.csv"
    assert "missing" in err["message"]


def test_unknown_hpo_id(tmp_path: Path, settings: Settings) -> None:
    h2 = [*HEADER_2[:-1], "HP:9999999"]
    path = write_case(tmp_path / "unknown.csv", header2=h2)
    report = assert_nothing_published(settings, ingest(path, settings, profile="hpo-case-template"))
    err = first_error(report)
    assert err["category"] == "unknown-term" and err["location"]["value"] == "HP:9999999"
    assert err["location"]["row"] == 3 and err["location"]["column"] == "Hypotonia"


def test_truncated_xlsx(tmp_path: Path, settings: Settings, submissions: Path) -> None:
    real = (submissions / "aire-aps1" / "AIRE_APS1_individuals.xlsx").read_bytes()
    path = tmp_path / "truncated.xlsx"
    path.write_bytes(real[: len(real) // 2])
    report = assert_nothing_published(settings, ingest(path, settings, profile="hpo-case-template"))
    err = first_error(report)
    assert err["location"]["file"] == "truncated.xlsx"
    assert "damaged" in err["hint"] or "damaged" in err["message"]


def test_empty_file(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    report = assert_nothing_published(settings, ingest(path, settings, profile="hpo-case-template"))
    assert "empty" in first_error(report)["message"]


def test_header_only_file(tmp_path: Path, settings: Settings) -> None:
    path = write_case(tmp_path / "headers.csv", rows=())
    report = assert_nothing_published(settings, ingest(path, settings, profile="hpo-case-template"))
    assert first_error(report)["location"]["file"] == "headers.csv"


def test_file_over_the_size_limit(tmp_path: Path, settings: Settings) -> None:
    path = write_case(tmp_path / "big.csv", rows=[ROW] * 50)
    small = settings.model_copy(update={"max_file_bytes": 1000})
    report = assert_nothing_published(small, ingest(path, small, profile="hpo-case-template"))
    assert "over the limit" in first_error(report)["message"]


def test_path_traversal_file_name(tmp_path: Path, settings: Settings) -> None:
    root = tmp_path / "sub"
    root.mkdir()
    outside = write_case(tmp_path / "outside.csv")
    digest = hashlib.sha256(outside.read_bytes()).hexdigest()
    (root / "manifest.yaml").write_text(
        f"profile: hpo-case-template\naccess: public\nfiles:\n  - path: ../outside.csv\n    sha256: '{digest}'\n"
    )
    report = assert_nothing_published(settings, ingest(root, settings))
    err = first_error(report)
    assert "leaves the submission" in err["message"] and err["location"]["file"] == "../outside.csv"


def test_noise_cells_warn_but_publish(tmp_path: Path, settings: Settings) -> None:
    row = [*ROW[:-2], "?", "bno"]
    result = ingest(
        write_case(tmp_path / "noise.csv", rows=[row]), settings, profile="hpo-case-template"
    )
    assert result.status == "published"
    report = json.loads(result.report_json.read_text())
    warning = next(f for f in report["findings"] if f["category"] == "unrecognized-cell")
    assert warning["location"]["value"] == "bno" and warning["location"]["row"] == 3


def test_a_spreadsheet_error_in_a_term_cell_is_an_error_not_noise(
    tmp_path: Path, settings: Settings
) -> None:
    """#N/A in a term cell was a noise warning and published; it is a spreadsheet error
    (issue #13): an error in a column the profile reads, so nothing is published."""
    row = [*ROW[:-2], "#N/A", "observed"]
    path = write_case(tmp_path / "na.csv", rows=[row])
    report = assert_nothing_published(settings, ingest(path, settings, profile="hpo-case-template"))
    err = first_error(report)
    # the file's only row: the column holds nothing else, so it is one unusable column
    assert err["category"] == "unusable-column"
    assert err["data"]["codes"] == {"#N/A": 1}
    assert err["location"]["column"] == HEADER_1[-2]


def test_contradiction_rejects_with_the_cell(tmp_path: Path, settings: Settings) -> None:
    """Seizure observed while its ancestor 'Abnormal nervous system physiology' is excluded."""
    h1 = [*HEADER_1, "Abnormal nervous system physiology"]
    h2 = [*HEADER_2, "HP:0012638"]
    row = [*ROW, "excluded"]
    path = write_case(tmp_path / "conflict.csv", h1, h2, [row])
    report = assert_nothing_published(settings, ingest(path, settings, profile="hpo-case-template"))
    err = first_error(report)
    assert err["category"] == "excluded-ancestor" and err["location"]["column"] == "Seizure"
    lenient = settings.model_copy(update={"on_conflict": "keep-observed"})
    assert ingest(path, lenient, profile="hpo-case-template").status == "published"


def test_obsolete_term_is_replaced_or_rejected_by_policy(
    tmp_path: Path, settings: Settings
) -> None:
    """HP:0002631 is obsolete in HPO 2025-01-16, replaced by HP:0002616."""
    h1 = [*HEADER_1, "Dilatation of ascending aorta"]
    h2 = [*HEADER_2, "HP:0002631"]
    path = write_case(tmp_path / "obsolete.csv", h1, h2, [[*ROW, "observed"]])
    replaced = ingest(path, settings, profile="hpo-case-template")
    assert replaced.status == "published"
    report = json.loads(replaced.report_json.read_text())
    warning = next(f for f in report["findings"] if f["category"] == "obsolete-term")
    assert warning["level"] == "warning" and "HP:0002616" in warning["message"]
    strict = settings.model_copy(
        update={"obsolete": "reject", "workspace": settings.workspace.parent / "strict"}
    )
    report = assert_nothing_published(strict, ingest(path, strict, profile="hpo-case-template"))
    err = first_error(report)
    assert err["category"] == "obsolete-term" and "HP:0002616" in err["message"]
    assert err["location"]["column"] == "Dilatation of ascending aorta"
