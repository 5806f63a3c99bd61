"""The JSON readers' part of the hardening issue: limits from Settings, bad text at its place.

The fhir and beacon readers kept caps of their own (``Settings.max_document_bytes``, a
constant ``MAX_RECORD_CHARS``) that neither ``--limit`` nor ``HARMONIZE_LIMIT_*`` could set;
both readers refused bytes that are not UTF-8 for the whole file, at no line; and a NUL
character (a raw byte, or a ``\\u0000`` escape) went through the fhir, beacon, phenopacket
and json readers into the published Phenopackets. Each case is ``ingest`` of the worked
examples with one thing broken: rejected, with the finding at its place, nothing published.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from harmonize.pipeline import ingest
from harmonize.settings import Limits, Settings
from tests.pipeline.test_bad_input import assert_nothing_published, first_error

SUBMISSIONS = Path(__file__).parents[1] / "data" / "submissions"
BUNDLE = SUBMISSIONS / "fhir-cohort" / "cohort-bundle.json"
NDJSON = SUBMISSIONS / "fhir-cohort" / "cohort.ndjson"
BEACON = SUBMISSIONS / "beacon-individuals" / "individuals.json"
PHENOPACKETS = SUBMISSIONS / "fbxl4-phenopackets" / "phenopackets"
CLINIC = SUBMISSIONS / "clinic-tabular"
MARK = "@@MARK@@"  # a string the tests replace with the bad bytes once the JSON is written


@pytest.fixture
def settings(tmp_path: Path, ontology_cache: Path) -> Settings:
    return Settings(
        workspace=tmp_path / "ws",
        ontology_cache=ontology_cache,
        run_great_expectations=False,
        data_docs=False,
    )


def _write(path: Path, value: Any, bad: bytes, *, indent: int | None = 1) -> Path:
    """``value`` as JSON with :data:`MARK` replaced by ``bad`` (raw bytes, or an escape)."""
    data = json.dumps(value, indent=indent, ensure_ascii=False).encode()
    assert data.count(MARK.encode()) == 1
    path.write_bytes(data.replace(MARK.encode(), bad))
    return path


def _where(data: bytes, bad: bytes) -> tuple[int, int]:
    """The line and character column where ``bad`` starts in ``data``."""
    offset = data.index(bad)
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, len(data[line_start:offset].decode()) + 1


def _bundle() -> dict[str, Any]:
    bundle: dict[str, Any] = json.loads(BUNDLE.read_text())
    return bundle


def _entry(bundle: dict[str, Any], kind: str) -> int:
    return next(i for i, e in enumerate(bundle["entry"]) if e["resource"]["resourceType"] == kind)


# ---------------------------------------------------------------------------- limits


def test_fhir_document_limit_is_a_reader_limit(tmp_path: Path, settings: Settings) -> None:
    small = settings.model_copy(update={"limits": Limits(max_fhir_document_bytes=10_000)})
    path = tmp_path / "bundle.json"
    path.write_bytes(BUNDLE.read_bytes())
    assert path.stat().st_size > 10_000
    report = assert_nothing_published(small, ingest(path, small, profile="fhir"))
    err = first_error(report)
    assert err["category"] == "LimitExceeded" and err["location"]["file"] == "bundle.json"
    assert "limits.max_fhir_document_bytes" in err["message"]
    assert "HARMONIZE_LIMIT_MAX_FHIR_DOCUMENT_BYTES" in err["hint"]


def test_the_old_fhir_setting_still_sets_the_limit(tmp_path: Path, settings: Settings) -> None:
    with pytest.warns(DeprecationWarning, match="limits.max_fhir_document_bytes"):
        old = Settings(**{**settings.model_dump(), "max_document_bytes": 10_000})
    assert old.limits.max_fhir_document_bytes == 10_000 == old.max_document_bytes
    path = tmp_path / "bundle.json"
    path.write_bytes(BUNDLE.read_bytes())
    err = first_error(assert_nothing_published(old, ingest(path, old, profile="fhir")))
    assert "limits.max_fhir_document_bytes" in err["message"]


def test_beacon_record_limit_is_a_reader_limit(tmp_path: Path, settings: Settings) -> None:
    individuals = json.loads(BEACON.read_text())
    individuals[2]["notes"] = "x" * 3000  # the others are under 3,000 characters as written
    path = tmp_path / "individuals.json"
    path.write_text(json.dumps(individuals, indent=1))
    small = settings.model_copy(update={"limits": Limits(max_beacon_record_chars=3000)})
    report = assert_nothing_published(small, ingest(path, small, profile="beacon"))
    err = first_error(report)
    assert err["category"] == "LimitExceeded" and err["location"]["file"] == "individuals.json"
    assert err["location"]["row"] == 3
    assert "limits.max_beacon_record_chars" in err["message"]
    assert "HARMONIZE_LIMIT_MAX_BEACON_RECORD_CHARS" in err["hint"]


# ---------------------------------------------------------------------------- not UTF-8


def test_fhir_bundle_not_utf8_at_its_entry(tmp_path: Path, settings: Settings) -> None:
    bundle = _bundle()
    i = _entry(bundle, "Patient")
    bundle["entry"][i]["resource"]["name"] = [{"family": MARK}]
    path = _write(tmp_path / "bundle.json", bundle, b"M\xfcller")
    report = assert_nothing_published(settings, ingest(path, settings, profile="fhir"))
    err = first_error(report)
    line, column = _where(path.read_bytes(), b"\xfc")
    assert f"not valid UTF-8 at line {line}, column {column} (byte 0xFC)" in err["message"]
    assert err["location"]["row"] == i + 1
    assert err["location"]["column"] == f"Bundle.entry[{i}].resource.name[0].family"
    assert err["location"]["value"] == "M\\xfcller"


def test_fhir_ndjson_not_utf8_at_its_line(tmp_path: Path, settings: Settings) -> None:
    lines = NDJSON.read_bytes().splitlines()
    record = json.loads(lines[1])
    record["entry"][0]["resource"]["id"] = MARK
    lines[1] = json.dumps(record).encode().replace(MARK.encode(), b"cf\xc3")  # cut UTF-8
    path = tmp_path / "cohort.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    report = assert_nothing_published(settings, ingest(path, settings, profile="fhir"))
    err = first_error(report)
    _, column = _where(lines[1], b"\xc3")
    assert f"not valid UTF-8 at line 2, column {column} (byte 0xC3)" in err["message"]
    assert err["location"]["row"] == 2
    assert err["location"]["column"] == "Bundle.entry[0].resource.id"


@pytest.mark.parametrize("form", ["array", "lines"])
def test_beacon_not_utf8_at_its_record(tmp_path: Path, settings: Settings, form: str) -> None:
    individuals = json.loads(BEACON.read_text())
    individuals[4]["diseases"][0]["diseaseCode"]["label"] = MARK
    if form == "array":
        path = _write(tmp_path / "individuals.json", individuals, b"Ataxie \xe0 1")
    else:
        text = "\n".join(json.dumps(r, ensure_ascii=False) for r in individuals) + "\n"
        path = tmp_path / "individuals.jsonl"
        path.write_bytes(text.encode().replace(MARK.encode(), b"Ataxie \xe0 1"))
    report = assert_nothing_published(settings, ingest(path, settings, profile="beacon"))
    err = first_error(report)
    line, column = _where(path.read_bytes(), b"\xe0")
    assert f"not valid UTF-8 at line {line}, column {column} (byte 0xE0)" in err["message"]
    assert err["location"]["row"] == 5
    assert err["location"]["column"] == "diseases[0].diseaseCode.label"
    assert err["location"]["value"] == "Ataxie \\xe0 1"


# ---------------------------------------------------------------------------- NUL


@pytest.mark.parametrize("nul", [b"\\u0000", b"\x00"], ids=["escaped", "raw"])
def test_nul_in_a_fhir_bundle(tmp_path: Path, settings: Settings, nul: bytes) -> None:
    bundle = _bundle()
    i = _entry(bundle, "Condition")
    bundle["entry"][i]["resource"]["code"]["text"] = MARK
    path = _write(tmp_path / "bundle.json", bundle, b"Seizure" + nul)
    report = assert_nothing_published(settings, ingest(path, settings, profile="fhir"))
    err = first_error(report)
    line, column = _where(path.read_bytes(), nul)
    assert err["message"] == f"a NUL character is not text, at line {line}, column {column}"
    assert err["location"]["row"] == i + 1
    assert err["location"]["column"] == f"Bundle.entry[{i}].resource.code.text"
    assert err["location"]["value"] == "Seizure\\x00"


@pytest.mark.parametrize("nul", [b"\\u0000", b"\x00"], ids=["escaped", "raw"])
@pytest.mark.parametrize("form", ["array", "lines"])
def test_nul_in_a_beacon_individual(
    tmp_path: Path, settings: Settings, nul: bytes, form: str
) -> None:
    individuals = json.loads(BEACON.read_text())
    individuals[1]["phenotypicFeatures"][0]["featureType"]["label"] = MARK
    if form == "array":
        path = _write(tmp_path / "individuals.json", individuals, b"Ataxia" + nul)
    else:
        text = "\n".join(json.dumps(r) for r in individuals) + "\n"
        path = tmp_path / "individuals.jsonl"
        path.write_bytes(text.encode().replace(MARK.encode(), b"Ataxia" + nul))
    report = assert_nothing_published(settings, ingest(path, settings, profile="beacon"))
    err = first_error(report)
    line, column = _where(path.read_bytes(), nul)
    assert err["message"] == f"a NUL character is not text, at line {line}, column {column}"
    assert err["location"]["row"] == 2
    assert err["location"]["column"] == "phenotypicFeatures[0].featureType.label"


def test_nul_in_a_phenopacket(tmp_path: Path, settings: Settings) -> None:
    source = sorted(PHENOPACKETS.glob("*.json"))[0]
    packet = json.loads(source.read_text())
    packet["subject"]["id"] = MARK
    path = _write(tmp_path / source.name, packet, b"patient\\u00001", indent=2)
    report = assert_nothing_published(settings, ingest(path, settings, profile="phenopacket"))
    err = first_error(report)
    line, column = _where(path.read_bytes(), b"\\u0000")
    assert err["message"] == f"a NUL character is not text, at line {line}, column {column}"
    assert err["location"]["file"] == source.name
    assert (err["location"]["row"], err["location"]["column"]) == (1, "subject.id")


def test_nul_in_json_records(tmp_path: Path, settings: Settings) -> None:
    """The tabular profile reading the clinic export as JSON records: a nested NUL too."""
    root = tmp_path / "sub"
    root.mkdir()
    lines = (CLINIC / "clinic_export.csv").read_text().splitlines()
    header = lines[0].split(",")
    records = [dict(zip(header, row.split(","), strict=True)) for row in lines[1:3]]
    bad = copy.deepcopy(records)
    bad[1]["extra"] = {"notes": [MARK]}  # not a mapped column: it went through unnoticed
    data = json.dumps(bad, indent=1).encode().replace(MARK.encode(), b"a\\u0000b")
    (root / "clinic.json").write_bytes(data)
    (root / "mapping.yaml").write_bytes((CLINIC / "mapping.yaml").read_bytes())
    (root / "manifest.yaml").write_text(
        "submission_id: nul-json\nprofile: tabular\nmapping: mapping.yaml\naccess: public\n"
        f"files:\n  - path: clinic.json\n    sha256: '{hashlib.sha256(data).hexdigest()}'\n"
    )
    report = assert_nothing_published(settings, ingest(root, settings))
    err = first_error(report)
    line, column = _where(data, b"\\u0000")
    assert err["message"] == f"a NUL character is not text, at line {line}, column {column}"
    assert (err["location"]["row"], err["location"]["column"]) == (2, "extra.notes[0]")
    assert err["location"]["value"] == "a\\x00b"
