"""The ``beacon`` profile: Beacon v2 individuals (BFF JSON) to Phenopackets v2.

The sample submission (``tests/data/submissions/beacon-individuals``, written after the
Beacon v2 specification's own examples) is ingested end to end, with Great Expectations on,
and every published Phenopacket is compared with one written by hand
(``data/beacon-individuals.expected.json``). Each class of bad input rejects the submission
with a finding at its record (``row``) and field (``column``), and publishes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harmonize.mapping.phenopackets import SCHEMA_VERSION
from harmonize.ontology import Ontologies
from harmonize.quality.schema import schema_errors
from harmonize.quality.validate import validate_files
from harmonize.settings import Settings
from tests.support.pxf import needs_pxf, pxf_errors

from .conftest import SUBMISSIONS, Outcome, new_workspace, run_ingest, write_submission

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = SUBMISSIONS / "beacon-individuals"
EXPECTED = Path(__file__).parent / "data" / "beacon-individuals.expected.json"
COMPARED = ("subject", "phenotypicFeatures", "diseases", "measurements", "medicalActions")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory, ontologies: Ontologies) -> Outcome:
    workspace = new_workspace(tmp_path_factory.mktemp("beacon"), ontologies)
    return run_ingest(SAMPLE, Settings(workspace=workspace, data_docs=False))


def expected() -> dict[str, dict[str, Any]]:
    return {doc["id"]: doc for doc in json.loads(EXPECTED.read_text())}


def sample_records() -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads((SAMPLE / "individuals.json").read_text())
    return records


def test_the_sample_is_published(sample: Outcome) -> None:
    assert sample.result.status == "published", sample.report["findings"]
    assert sample.result.findings["error"] == 0
    assert sample.sid == "beacon-node-2026-01"
    assert "ontology-terms" in sample.report["validators"]
    assert "gx:harmonized/phenotypic_features" in sample.report["validators"]


def test_every_individual_matches_its_hand_written_phenopacket(sample: Outcome) -> None:
    published = sample.documents()
    wanted = expected()
    assert sorted(published) == sorted(wanted) == [f"Ind00{i}" for i in range(1, 8)]
    for pid, want in wanted.items():
        got = published[pid]
        for key in COMPARED:
            assert got.get(key) == want.get(key), f"{pid} {key}"
        assert set(got) - {"metaData"} == set(want), pid


def test_metadata_names_a_resource_for_every_prefix(sample: Outcome) -> None:
    docs = sample.documents()
    for pid, doc in docs.items():
        assert doc["metaData"]["phenopacketSchemaVersion"] == SCHEMA_VERSION
        assert schema_errors(doc) == [], pid
    prefixes = {r["namespacePrefix"] for r in docs["Ind002"]["metaData"]["resources"]}
    # MAXO from the procedure, NCIT from the sex code
    assert prefixes == {"HP", "OMIM", "MAXO", "NCIT"}
    prefixes = {r["namespacePrefix"] for r in docs["Ind005"]["metaData"]["resources"]}
    assert prefixes == {"HP", "ICD10", "LOINC", "UCUM", "NCIT"}
    assert [r["namespacePrefix"] for r in docs["Ind007"]["metaData"]["resources"]] == ["NCIT"]


def test_the_tables_keep_record_and_field_lineage(sample: Outcome) -> None:
    features = sample.rows("phenotypic_features")
    pruritus = next(r for r in features if r["term_id"] == "HP:0000989")
    assert (pruritus["source_file"], pruritus["source_row"]) == ("individuals.json", 2)
    assert pruritus["source_column"] == "phenotypicFeatures[3].featureType"
    assert (pruritus["raw_value"], pruritus["resolution_method"]) == ("Pruritus", "label")
    seizure = next(r for r in features if r["term_id"] == "HP:0001250")
    assert seizure["excluded"] and seizure["source_row"] == 1
    individuals = {r["phenopacket_id"]: r for r in sample.rows("individuals")}
    assert individuals["Ind004"]["sex"] == "UNKNOWN_SEX"
    assert {r["profile"] for r in individuals.values()} == {"beacon"}
    diseases = {r["phenopacket_id"]: r for r in sample.rows("diseases")}
    assert (
        diseases["Ind001"]["onset_age_range_start"],
        diseases["Ind001"]["onset_age_range_end"],
    ) == (
        "P18Y",
        "P59Y",
    )
    measurement = next(r for r in sample.rows("measurements") if r["phenopacket_id"] == "Ind005")
    assert (measurement["source_row"], measurement["source_column"]) == (5, "measures[0]")


def test_fields_without_a_place_are_reported_per_record(sample: Outcome) -> None:
    left = {f["location"]["row"]: f for f in sample.findings("not-carried-over", "info")}
    assert "ethnicity, geographicOrigin" in left[1]["message"]
    assert left[1]["location"]["phenopacket_id"] == "Ind001"
    assert left[3]["location"]["column"] == "phenotypicFeatures[0].severity"
    assert 7 not in left  # $schema says nothing about the individual


def test_published_phenopackets_pass_harmonize_validate(sample: Outcome, tmp_path: Path) -> None:
    files = sorted(sample.phenopackets_dir.glob("*.json"))
    assert len(files) == 7
    report = validate_files(
        files, Settings(workspace=tmp_path, ontology_cache=sample.settings.cache_dir)
    )
    assert [f.message for f in report.findings if f.level == "error"] == []


@needs_pxf
def test_published_phenopackets_pass_the_reference_validator(sample: Outcome) -> None:
    assert pxf_errors(*sorted(sample.phenopackets_dir.glob("*.json"))) == []


# -- the other input forms ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("individuals.jsonl", "\n".join(json.dumps(r) for r in sample_records()) + "\n"),
        (
            "wrapped.json",
            json.dumps({"meta": {"apiVersion": "v2.0"}, "individuals": sample_records()}),
        ),
    ],
)
def test_json_lines_and_the_wrapper_give_the_same_phenopackets(
    name: str, text: str, tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    root = write_submission(
        tmp_path / "sub", submission_id="forms", files={name: text}, profile="beacon"
    )
    out = run_ingest(root, settings())
    assert out.result.status == "published", out.report["findings"]
    published = out.documents()
    for pid, want in expected().items():
        assert {k: published[pid].get(k) for k in COMPARED} == {k: want.get(k) for k in COMPARED}


def test_one_individual_alone_is_one_record(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    record = {"id": "Ind001", "sex": {"id": "NCIT:C16576", "label": "female"}}
    root = write_submission(
        tmp_path / "sub",
        submission_id="one",
        files={"one.json": json.dumps(record)},
        profile="beacon",
    )
    out = run_ingest(root, settings())
    assert out.result.status == "published", out.report["findings"]
    assert out.documents()["Ind001"]["subject"] == {"id": "Ind001", "sex": "FEMALE"}


# -- bad input: a finding at the record and field, nothing published -----------------------


def _records_with(change: Callable[[list[dict[str, Any]]], None]) -> str:
    records = sample_records()
    change(records)
    return json.dumps(records, indent=2)


def _set(i: int, key: str, value: Any) -> Callable[[list[dict[str, Any]]], None]:
    def change(records: list[dict[str, Any]]) -> None:
        records[i][key] = value

    return change


BROKEN = json.dumps(sample_records()[:3], indent=2).replace('"Ind003",', '"Ind003"', 1)

BAD: dict[str, tuple[str, str, int, str | None]] = {
    # name: (file text, finding category, record, field)
    "broken-json": (BROKEN, "ReadError", 3, None),
    "no-id": (_records_with(_set(1, "id", None)), "missing-required-field", 2, "id"),
    "unknown-prefix": (
        _records_with(
            _set(2, "phenotypicFeatures", [{"featureType": {"id": "XYZ:0001250", "label": "?"}}])
        ),
        "missing-resource",
        3,
        "phenotypicFeatures[0].featureType",
    ),
    "unknown-procedure-system": (
        _records_with(
            _set(
                5,
                "interventionsOrProcedures",
                [{"procedureCode": {"id": "OBI:0002654", "label": "needle biopsy"}}],
            )
        ),
        "missing-resource",
        6,
        "interventionsOrProcedures[0].procedureCode",
    ),
    "unknown-term": (
        _records_with(_set(0, "diseases", [{"diseaseCode": {"id": "HP:9999999", "label": "x"}}])),
        "unknown-term",
        1,
        "diseases[0].diseaseCode",
    ),
    "unknown-sex-code": (
        _records_with(_set(3, "sex", {"id": "NCIT:C12345", "label": "?"})),
        "bad-sex",
        4,
        "sex.id",
    ),
    "malformed-onset": (
        _records_with(
            _set(
                4,
                "phenotypicFeatures",
                [
                    {
                        "featureType": {"id": "HP:0002014"},
                        "onset": {"age": {"iso8601duration": "soon"}},
                    }
                ],
            )
        ),
        "malformed-age",
        5,
        "phenotypicFeatures[0].onset",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_rejects_with_a_finding_at_its_record_and_field(
    case: str, tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    text, category, record, field = BAD[case]
    root = write_submission(
        tmp_path / "sub",
        submission_id=f"bad-{case}",
        files={"individuals.json": text},
        profile="beacon",
    )
    out = run_ingest(root, settings())
    assert out.result.status == "rejected", case
    found = [f for f in out.findings(category, "error")]
    assert found, out.report["findings"]
    where = found[0]["location"]
    assert (where["file"], where["row"], where.get("column")) == ("individuals.json", record, field)
    assert not (out.settings.published_dir / "phenopackets").exists() or not any(
        (out.settings.published_dir / "phenopackets").rglob("*.json")
    )


def test_a_broken_file_names_its_record_line_and_column(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    root = write_submission(
        tmp_path / "sub",
        submission_id="broken",
        files={"individuals.json": BROKEN},
        profile="beacon",
    )
    message = run_ingest(root, settings()).findings("ReadError", "error")[0]["message"]
    line = BROKEN.splitlines().index('    "id": "Ind003"') + 2  # the next key, where it breaks
    assert message.startswith(f"invalid JSON at record 3, line {line}, column 5:"), message
