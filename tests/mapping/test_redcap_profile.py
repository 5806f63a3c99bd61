"""The ``redcap`` profile: a REDCap data dictionary plus a records export, end to end.

The sample submission ``redcap-registry`` (see its PROVENANCE.md) holds five records of a
longitudinal project with a repeating instrument. Each published Phenopacket's sex,
diseases and phenotypic features are compared with the expected content written by hand
in ``data/redcap-registry-expected.json``.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harmonize.mapping.profiles import redcap_logic
from harmonize.quality.validate import validate_files
from harmonize.settings import Settings
from tests.support.pxf import needs_pxf, pxf_errors

from .conftest import SUBMISSIONS, Outcome, run_ingest

REGISTRY = SUBMISSIONS / "redcap-registry"
RECORDS = "RareRegistry_DATA_2024-06-03_1412.csv"
DICTIONARY = "RareRegistry_DataDictionary.csv"
EXPECTED = json.loads(
    (Path(__file__).parent / "data" / "redcap-registry-expected.json").read_text()
)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory, ontologies: Any) -> Outcome:
    from .conftest import new_workspace

    workspace = new_workspace(tmp_path_factory.mktemp("redcap"), ontologies)
    return run_ingest(REGISTRY, Settings(workspace=workspace, data_docs=False))


def _annotations(items: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    out = [{k: item[k] for k in (key, "excluded") if k in item} for item in items]
    return sorted(out, key=lambda a: a[key]["id"])


def test_registry_is_published(registry: Outcome) -> None:
    assert registry.result.status == "published", registry.result.message
    assert registry.result.counts["individuals"] == 5
    errors = [f for f in registry.report["findings"] if f["level"] == "error"]
    assert errors == []


@pytest.mark.parametrize("pid", sorted(EXPECTED))
def test_each_record_matches_its_expected_phenopacket(registry: Outcome, pid: str) -> None:
    doc = registry.documents()[pid]
    expected = EXPECTED[pid]
    assert doc["subject"] == expected["subject"]
    assert _annotations(doc.get("diseases", []), "term") == expected["diseases"]
    assert (
        _annotations(doc.get("phenotypicFeatures", []), "type") == (expected["phenotypicFeatures"])
    )


def test_a_value_its_branching_logic_hides_is_a_warning_and_not_mapped(registry: Outcome) -> None:
    """Record 3: fever_seizures = 1 while seizures = 0 hides it (row 7 of the export)."""
    [hidden] = registry.findings("hidden-by-branching-logic", "warning")
    loc = hidden["location"]
    assert (loc["file"], loc["row"], loc["column"], loc["value"]) == (
        RECORDS,
        7,
        "fever_seizures",
        "1",
    )
    features = {f["type"]["id"] for f in registry.documents()["rr-3"]["phenotypicFeatures"]}
    assert "HP:0002373" not in features


def test_repeating_instances_events_and_exposures(registry: Outcome) -> None:
    docs = registry.documents()
    labs = [
        (m["assay"]["id"], m["value"]["quantity"]["value"])
        for m in docs["rr-1"]["measurements"]
        if "quantity" in m["value"]
    ]
    assert sorted(labs) == [
        ("LOINC:2078-1", 98.0),
        ("LOINC:2078-1", 105.0),
        ("LOINC:718-7", 11.2),
        ("LOINC:718-7", 11.6),
    ]
    smoking = [m for m in docs["rr-3"]["measurements"] if "ontologyClass" in m["value"]]
    assert smoking == [
        {
            "assay": {"id": "LOINC:72166-2", "label": "Tobacco smoking status"},
            "value": {"ontologyClass": {"id": "SNOMEDCT:77176002", "label": "Current smoker"}},
        }
    ]
    # phe's branching logic reads diagnosis from the record's baseline row, not the labs row
    assert [m["value"]["quantity"]["value"] for m in docs["rr-2"]["measurements"]] == [1200.0]
    prefixes = {r["namespacePrefix"] for r in docs["rr-3"]["metaData"]["resources"]}
    assert {"HP", "OMIM", "LOINC", "UCUM", "SNOMEDCT"} <= prefixes


def test_tables_keep_the_row_and_field(registry: Outcome) -> None:
    features = {
        (r["phenopacket_id"], r["term_id"]): r for r in registry.rows("phenotypic_features")
    }
    hearing = features["rr-3", "HP:0000365"]  # observed at the 12-month event, row 8
    assert (hearing["source_file"], hearing["source_row"], hearing["source_column"]) == (
        RECORDS,
        8,
        "hearing",
    )
    assert features["rr-4", "HP:0001252"]["source_column"] == "features___2"
    individuals = {r["phenopacket_id"]: r for r in registry.rows("individuals")}
    assert individuals["rr-5"]["profile"] == "redcap"


def test_published_phenopackets_pass_validate(registry: Outcome) -> None:
    report = validate_files([registry.phenopackets_dir], registry.settings)
    assert report.stats == {"phenopackets": 5}
    assert [f for f in report.findings if f.level in ("error", "warning")] == []


@needs_pxf
def test_published_phenopackets_pass_the_reference_validator(registry: Outcome) -> None:
    assert pxf_errors(registry.phenopackets_dir) == []


# -- other shapes of the same data ---------------------------------------------------------


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "sub"
    shutil.copytree(REGISTRY, root)
    return root


def _records(root: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO((root / RECORDS).read_text())))


def _write(root: Path, rows: list[list[str]]) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    (root / RECORDS).write_text(out.getvalue())


def test_small_batches_never_split_a_record(
    tmp_path: Path, settings: Callable[..., Settings], registry: Outcome
) -> None:
    out = run_ingest(REGISTRY, settings(batch_size=2))
    assert out.result.status == "published", out.result.message
    assert out.documents().keys() == registry.documents().keys()
    for pid, doc in out.documents().items():
        assert doc["phenotypicFeatures"] == registry.documents()[pid]["phenotypicFeatures"]


def test_a_label_export_maps_like_the_raw_one(
    tmp_path: Path, settings: Callable[..., Settings], registry: Outcome
) -> None:
    """REDCap's "labels" export writes choice labels and Checked/Unchecked."""
    root = _copy(tmp_path)
    rows = _records(root)
    header = rows[0]
    labels = {
        "sex": {"1": "Female", "2": "Male"},
        "dx_confirmed": {"1": "Yes", "0": "No"},
        "seizures": {"1": "Yes", "0": "No"},
        "fever_seizures": {"1": "Yes", "0": "No"},
        "hearing": {"1": "Present", "0": "Absent", "9": "Not assessed"},
        "diagnosis": {
            "1": "Cystic fibrosis",
            "2": "Phenylketonuria",
            "3": "Marfan syndrome",
            "4": "Dravet syndrome",
        },
        "smoking": {"1": "Never smoker", "2": "Former smoker", "3": "Current smoker"},
    }
    for row in rows[1:]:
        for j, name in enumerate(header):
            if name in labels and row[j]:
                row[j] = labels[name][row[j]]
            elif name.startswith("features___") and row[j]:
                row[j] = "Checked" if row[j] == "1" else "Unchecked"
    _write(root, rows)
    out = run_ingest(root, settings())
    assert out.result.status == "published", out.result.message
    for pid, doc in out.documents().items():
        want = registry.documents()[pid]
        assert doc["subject"] == want["subject"]
        assert doc["diseases"] == want["diseases"]
        assert doc["phenotypicFeatures"] == want["phenotypicFeatures"]


# -- bad input --------------------------------------------------------------------------


def _rejected(out: Outcome, category: str) -> dict[str, Any]:
    assert out.result.status == "rejected", out.result.message
    assert not (out.settings.published_dir / "phenopackets").exists()
    found = out.findings(category, "error")
    assert found, [f["category"] for f in out.report["findings"]]
    return found[0]


def test_broken_records_file(tmp_path: Path, settings: Callable[..., Settings]) -> None:
    root = _copy(tmp_path)
    lines = (root / RECORDS).read_text().splitlines()
    lines[4] += ',"stray'  # row 5: a field too many, an unclosed quote
    (root / RECORDS).write_text("\n".join(lines) + "\n")
    out = run_ingest(root, settings())
    assert out.result.status == "rejected"
    assert not (out.settings.published_dir / "phenopackets").exists()
    error = next(f for f in out.report["findings"] if f["level"] == "error")
    assert (error["location"]["file"], error["location"]["row"]) == (RECORDS, 5)


def test_a_dictionary_field_missing_from_the_export(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    root = _copy(tmp_path)
    rows = _records(root)
    drop = rows[0].index("hearing")
    _write(root, [row[:drop] + row[drop + 1 :] for row in rows])
    out = run_ingest(root, settings(batch_size=2))  # several batches: said once per file
    error = _rejected(out, "missing-column")
    assert len(out.findings("missing-column")) == 1
    loc = error["location"]
    assert (loc["file"], loc["row"], loc["column"], loc["value"]) == (
        DICTIONARY,
        12,
        "Variable / Field Name",
        "hearing",
    )
    assert RECORDS in error["message"]


def test_a_checkbox_choice_missing_from_the_export(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    root = _copy(tmp_path)
    rows = _records(root)
    drop = rows[0].index("features___4")
    _write(root, [row[:drop] + row[drop + 1 :] for row in rows])
    error = _rejected(run_ingest(root, settings()), "missing-column")
    assert error["location"]["value"] == "features"
    assert "features___4" in error["message"]


def test_a_value_outside_the_choices(tmp_path: Path, settings: Callable[..., Settings]) -> None:
    root = _copy(tmp_path)
    rows = _records(root)
    rows[4][rows[0].index("sex")] = "4"  # record 2, row 5
    rows[1][rows[0].index("features___3")] = "2"  # record 1, row 2: a checkbox holds 0 or 1
    _write(root, rows)
    out = run_ingest(root, settings())
    _rejected(out, "bad-value")
    where = {
        (f["location"]["row"], f["location"]["column"], f["location"]["value"])
        for f in out.findings("bad-value", "error")
    }
    assert where == {(5, "sex", "4"), (2, "features___3", "2")}


def test_a_code_from_an_unknown_system(tmp_path: Path, settings: Callable[..., Settings]) -> None:
    root = _copy(tmp_path)
    rows = _records(root)
    rows[-1][rows[0].index("dx_icd10")] = "ICD9CM:345.90"  # record 5, row 11
    _write(root, rows)
    error = _rejected(run_ingest(root, settings()), "unknown-code-system")
    loc = error["location"]
    assert (loc["file"], loc["row"], loc["column"], loc["value"]) == (
        RECORDS,
        11,
        "dx_icd10",
        "ICD9CM:345.90",
    )
    assert "ICD10" in error["hint"]


def test_an_export_column_the_dictionary_lacks(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    root = _copy(tmp_path)
    rows = _records(root)
    _write(root, [[*row, "x" if i else "bmi"] for i, row in enumerate(rows)])
    error = _rejected(run_ingest(root, settings()), "unknown-column")
    assert (error["location"]["file"], error["location"]["column"]) == (RECORDS, "bmi")


def test_rows_of_a_record_apart(tmp_path: Path, settings: Callable[..., Settings]) -> None:
    root = _copy(tmp_path)
    rows = _records(root)
    _write(root, [rows[0], rows[1], rows[4], rows[2], *rows[5:]])  # record 1, 2, then 1 again
    out = run_ingest(root, settings())
    assert out.result.status == "rejected"
    error = next(f for f in out.report["findings"] if f["level"] == "error")
    assert (error["location"]["row"], error["location"]["value"]) == (4, "1")


def test_a_mapping_naming_an_unknown_field_is_a_usage_error(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    root = _copy(tmp_path)
    text = (root / "mapping.yaml").read_text().replace("field: hearing", "field: hearring")
    (root / "mapping.yaml").write_text(text)
    out = run_ingest(root, settings())
    assert out.result.status != "published"
    assert "hearring" in out.result.message
    assert "phenotypes[2].field" in out.result.message


def test_a_mapping_with_an_unknown_key_fails_closed(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    root = _copy(tmp_path)
    (root / "mapping.yaml").write_text(
        (root / "mapping.yaml").read_text().replace("phenotypes:", "phenotype:")
    )
    out = run_ingest(root, settings())
    assert out.result.status == "rejected"
    assert "'phenotype': unknown key; did you mean 'phenotypes'?" in out.result.message
    assert not (out.settings.published_dir / "phenopackets").exists()


def test_branching_logic_subset() -> None:
    shows = redcap_logic.parse("([dx_confirmed] = '1' and [diagnosis] <> '') or [age] >= 18")
    assert shows({"dx_confirmed": "1", "diagnosis": "2"}.get)
    assert shows({"age": "18"}.get)
    assert not shows({"dx_confirmed": "0", "age": "9"}.get)
    assert not shows({"age": ""}.get)  # empty is not a number: '' >= 18 is false
    with pytest.raises(redcap_logic.Unsupported):
        redcap_logic.parse("datediff([dob], 'today', 'y') > 18")


def test_logic_outside_the_subset_is_named_once_and_the_field_mapped(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    root = _copy(tmp_path)
    text = (root / DICTIONARY).read_text()
    lines = text.splitlines()
    hb = next(i for i, line in enumerate(lines) if line.startswith("hb,"))
    lines[hb] = lines[hb].replace(
        ",number,0,25,,,", ",number,0,25,,\"[baseline_arm_1][dx_confirmed] = '1'\","
    )
    (root / DICTIONARY).write_text("\n".join(lines) + "\n")
    out = run_ingest(root, settings(batch_size=2))
    assert out.result.status == "published", out.result.message
    [told] = out.findings("branching-logic-not-evaluated", "info")
    assert (told["location"]["file"], told["location"]["row"]) == (DICTIONARY, hb + 1)
    hb_values = [
        m["value"]["quantity"]["value"]
        for m in out.documents()["rr-1"]["measurements"]
        if m["assay"]["id"] == "LOINC:718-7"
    ]
    assert hb_values == [11.2, 11.6]


def test_a_broken_mapping_is_a_usage_error_not_a_rejection(tmp_path: Path) -> None:
    """As for tabular: the operator fixes the mapping YAML; the submission is not rejected."""
    from typer.testing import CliRunner

    from harmonize.cli import app

    root = _copy(tmp_path)
    mapping = root / "mapping.yaml"
    mapping.write_text(mapping.read_text() + "colour: blue\n")
    ws = tmp_path / "ws"
    result = CliRunner().invoke(app, ["ingest", str(root), "-w", str(ws)])
    assert result.exit_code == 2, result.output
    assert "mapping.yaml" in result.output and "colour" in result.output
    assert not (ws / "reports").exists() and not (ws / "published").exists()
