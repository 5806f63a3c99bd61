"""The DAG's stages over files (read -> harmonize per batch -> publish) match one-process ingest."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from harmonize.events import SUBMISSIONS
from harmonize.intake import submit
from harmonize.orchestrate.fanout import (
    OUTCOME,
    Planned,
    harmonize_batches,
    publish_submission,
    read_submission,
    work_units,
)
from harmonize.orchestrate.stages import Received, receive_event
from harmonize.pipeline import ingest
from harmonize.settings import Settings
from tests.orchestrate.conftest import drain

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from synth import write_submission

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def fan_out(source: Path, settings: Settings, bus: Any, *, units: int = 2) -> tuple[Any, Planned]:
    """The ingest DAG's stages, run in order in this process."""
    submit(source, settings, bus=bus)
    (message,) = drain(bus, SUBMISSIONS)
    received = receive_event(message.value, settings, bus)
    assert received is not None
    planned = read_submission(received, settings)
    for unit in work_units([planned], units=units):
        harmonize_batches(unit, settings)
    again = Planned.load(Path(received.run_dir))
    result = json.loads(publish_submission(again, settings).read_text())
    return result, planned


def tables(workspace: Path, sid: str) -> dict[str, list[dict[str, Any]]]:
    import pyarrow.compute as pc

    from harmonize.drs.registry import Registry
    from harmonize.warehouse import TABLES, Warehouse, current

    settings = Settings(workspace=workspace)
    view = current(Registry(settings.registry))
    out = {}
    for name in TABLES:
        table = Warehouse.of(settings).read(name, view)
        rows = table.filter(pc.equal(table.column("submission_id"), sid)).to_pylist()
        if rows:
            out[name] = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))
    return out


def documents(workspace: Path, sid: str) -> dict[str, Any]:
    docs = {}
    for path in sorted((workspace / "published" / "phenopackets" / sid).glob("v*/*.json")):
        doc = json.loads(path.read_text())
        doc["metaData"].pop("created")
        docs[path.name] = doc
    return docs


def findings(report: Path) -> list[tuple[Any, ...]]:
    data = json.loads(report.read_text())
    return sorted(
        (f["level"], f["category"], f["message"], json.dumps(f["location"], sort_keys=True))
        for f in data["findings"]
    )


def pages_of(path: str) -> tuple[str, str]:
    """A Data Docs page: its file name and its text without the run's timestamps."""
    import re

    text = re.sub(r"\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:?\d\d)?", "T", Path(path).read_text())
    return Path(path).name, text


@pytest.fixture
def batched(settings: Settings) -> Settings:
    return settings.model_copy(update={"batch_size": 30})


def test_batches_fanned_out_publish_what_one_process_publishes(
    batched: Settings, bus: Any, tmp_path: Path
) -> None:
    source = tmp_path / "in" / "synth-fan"
    write_submission(source, 100, submission_id="synth-fan", seed=3)
    alone = batched.model_copy(update={"workspace": tmp_path / "alone"})
    one = ingest(source, alone)
    assert one.status == "published"

    result, planned = fan_out(source, batched, bus)
    assert len(planned.batches) == 4 and planned.rows == (30, 30, 30, 10)
    assert result["status"] == "published"
    assert result["object_count"] == one.objects
    assert tables(batched.workspace, "synth-fan") == tables(alone.workspace, "synth-fan")
    assert documents(batched.workspace, "synth-fan") == documents(alone.workspace, "synth-fan")
    assert one.report_json is not None
    assert findings(Path(result["report_uri"])) == findings(one.report_json)
    # the same Data Docs pages (the first batch's), in the report's folder, with the same text
    fanned = json.loads(Path(result["report_uri"]).read_text())["data_docs"]
    alone_docs = json.loads(one.report_json.read_text())["data_docs"]
    assert fanned and sorted(map(pages_of, fanned)) == sorted(map(pages_of, alone_docs))
    folder = Path(result["report_uri"]).parent / "data-docs"
    assert sorted(p.name for p in folder.iterdir()) == sorted(Path(p).name for p in fanned)
    # the hand-off files are gone once published
    assert not (Path(planned.received.run_dir) / "batches").exists()


def test_a_row_s_consent_survives_the_fan_out(settings: Settings, bus: Any, tmp_path: Path) -> None:
    """Per-row DUO codes reach the tables, the Phenopackets and the DRS objects as in one process."""
    from harmonize.drs.registry import Registry

    source = tmp_path / "in" / "consented"
    source.mkdir(parents=True)
    (source / "cases.csv").write_text(
        "pid,sex,codes,symptoms\n"
        "P1,female,DUO:0000006;DUO:0000021,Seizures\n"
        "P2,male,,Seizures\n"
        "P3,female,DUO:0000007,Macrocephaly\n"
        "P4,male,DUO:0000004,Seizures\n"
    )
    (source / "mapping.yaml").write_text(
        "id_column: pid\n"
        "sex: {column: sex, values: {female: FEMALE, male: MALE}}\n"
        'phenotypes: [{column: symptoms, separator: ";"}]\n'
        'consent: {column: codes, separator: ";"}\n'
    )
    (source / "manifest.yaml").write_text(
        "submission_id: consented\nprofile: tabular\nmapping: mapping.yaml\n"
        "access: controlled\nconsent: [DUO:0000042]\nfiles: [{path: cases.csv}]\n"
    )
    small = settings.model_copy(update={"batch_size": 2})
    alone = small.model_copy(update={"workspace": tmp_path / "alone"})
    assert ingest(source, alone).status == "published"

    result, planned = fan_out(source, small, bus)
    assert len(planned.batches) == 2 and result["status"] == "published"
    fanned = tables(small.workspace, "consented")
    assert fanned == tables(alone.workspace, "consented")
    assert {r["subject_id"]: r["consent"] for r in fanned["individuals"]} == {
        "P1": ["DUO:0000006", "DUO:0000021"],
        "P2": ["DUO:0000042"],
        "P3": ["DUO:0000007"],
        "P4": ["DUO:0000004"],
    }
    assert documents(small.workspace, "consented") == documents(alone.workspace, "consented")
    registry = Registry(small.registry)
    try:
        consent = {o.name: o.consent for o in registry.objects_for_submission("consented")}
    finally:
        registry.dispose()
    assert consent["P1.json"] == ["DUO:0000006", "DUO:0000021"]
    assert consent["P2.json"] == consent["cases.csv"] == ["DUO:0000042"]
    assert consent["P4.json"] == ["DUO:0000004"]


@pytest.mark.parametrize(
    ("sample", "sid"),
    [
        ("fhir-cohort", "fhir-cohort-2024-05"),
        ("beacon-individuals", "beacon-node-2026-01"),
        ("redcap-registry", "redcap-registry-2024-06"),
        ("omop-cdm", "omop-cdm-2024-09"),
    ],
)
def test_a_profile_s_extras_survive_the_fan_out(
    sample: str, sid: str, settings: Settings, bus: Any, tmp_path: Path
) -> None:
    """The fhir, beacon, redcap and omop profiles' reader (Profile.reader), their
    medicalActions or exposure measurements (MappedBatch.extras) and the MetaData resources
    of those and of a Beacon NCIT sex (MappedBatch.prefixes) come out of the DAG's fan-out
    as out of one process; the redcap and omop readers keep a record or person whole."""
    source = Path(__file__).resolve().parents[1] / "data" / "submissions" / sample
    small = settings.model_copy(update={"batch_size": 2})
    alone = small.model_copy(update={"workspace": tmp_path / "alone"})
    assert ingest(source, alone).status == "published"

    result, planned = fan_out(source, small, bus)
    assert len(planned.batches) > 1 and result["status"] == "published"
    assert tables(small.workspace, sid) == tables(alone.workspace, sid)
    fanned = documents(small.workspace, sid)
    assert fanned == documents(alone.workspace, sid)
    acted = [
        doc
        for doc in fanned.values()
        if doc.get("medicalActions")
        or any("ontologyClass" in m["value"] for m in doc.get("measurements", []))
    ]
    assert acted, "the sample has procedures, treatments or exposures"
    for doc in fanned.values():
        assert doc["metaData"]["resources"], doc["id"]


def test_a_duplicate_across_batches_is_found_as_within_one(
    batched: Settings, bus: Any, tmp_path: Path
) -> None:
    source = tmp_path / "in" / "synth-dup"
    write_submission(source, 60, submission_id="synth-dup", seed=4)
    cases = source / "cases.csv"
    rows = list(csv.reader(cases.open(encoding="utf-8")))
    rows[2 + 45] = list(rows[2 + 5])  # data row 46 (batch 2) repeats data row 6 (batch 1)
    with cases.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    alone = batched.model_copy(update={"workspace": tmp_path / "alone"})
    one = ingest(source, alone)

    result, planned = fan_out(source, batched, bus)
    assert len(planned.batches) == 2
    assert result["status"] == one.status == "rejected"
    dup = [f for f in findings(Path(result["report_uri"])) if f[1] == "duplicate-id"]
    assert dup and dup == [f for f in findings(one.report_json) if f[1] == "duplicate-id"]  # type: ignore[arg-type]
    assert '"row": 48' in dup[0][3]  # the submitter's row: two header rows, then data row 46
    assert not (batched.workspace / "published" / "phenopackets" / "synth-dup").exists()


def test_a_retried_harmonize_task_skips_the_batches_it_finished(
    batched: Settings, bus: Any, tmp_path: Path
) -> None:
    source = tmp_path / "in" / "synth-retry"
    write_submission(source, 40, submission_id="synth-retry", seed=5)
    submit(source, batched, bus=bus)
    (message,) = drain(bus, SUBMISSIONS)
    received = receive_event(message.value, batched, bus)
    assert received is not None
    planned = read_submission(received, batched)
    first, second = (Path(b) for b in planned.batches)
    harmonize_batches([str(first)], batched)
    done_at = (first / OUTCOME).stat().st_mtime_ns
    with pytest.raises(Exception, match="never harmonized"):
        publish_submission(planned, batched)  # batch 2 is missing: retried, not rejected
    harmonize_batches([str(first), str(second)], batched)
    assert (first / OUTCOME).stat().st_mtime_ns == done_at
    result = json.loads(publish_submission(planned, batched).read_text())
    assert result["status"] == "published"


def test_work_units_share_small_submissions_and_spread_a_large_one() -> None:
    def plan(sid: str, rows: list[int]) -> Planned:
        received = Received(sid, "sha", "event", "run", "dir")
        return Planned(received, tuple(f"{sid}/{i}" for i in range(len(rows))), tuple(rows))

    small = [plan(f"s{i}", [100]) for i in range(5)]
    assert work_units(small, units=2) == [["s0/0", "s2/0", "s4/0"], ["s1/0", "s3/0"]]
    large = plan("big", [20_000] * 4 + [7_000])
    units = work_units([large, small[0]], units=2)
    assert sorted(len(u) for u in units) == [3, 3]
    assert sorted(b for u in units for b in u) == sorted([*large.batches, "s0/0"])
    assert work_units([small[0]], units=4) == [["s0/0"]]
    assert work_units([], units=2) == []


def test_the_dag_task_bodies_take_a_run_from_events_to_results(
    batched: Settings, bus: Any, tmp_path: Path
) -> None:
    """receive_and_read -> harmonize_unit (per unit) -> publish_units, as the DAG calls them.

    A submission of one batch is published and announced by the receive task itself; only
    the one of several batches is left to the mapped tasks.
    """
    from harmonize.events import RESULTS, parse_envelope
    from harmonize.orchestrate.tasks import harmonize_unit, publish_units, receive_and_read
    from harmonize.orchestrate.trigger import message_payload

    env = {
        "HARMONIZE_WORKSPACE": str(batched.workspace),
        "HARMONIZE_EVENTS_URL": batched.events,
        "HARMONIZE_LANDING_URL": batched.landing,
        "HARMONIZE_ONTOLOGY_CACHE": str(batched.cache_dir),
        "HARMONIZE_ON_CONFLICT": batched.on_conflict,
        "HARMONIZE_BATCH_SIZE": "30",
        "HARMONIZE_FANOUT": "2",
    }
    for sid, rows in (("synth-big", 70), ("synth-small", 10)):
        write_submission(tmp_path / "in" / sid, rows, submission_id=sid)
        submit(tmp_path / "in" / sid, batched, bus=bus)
    payloads = [message_payload(m) for m in drain(bus, SUBMISSIONS)]
    units = receive_and_read([*payloads, {"flush": 1.0}], env)
    announced = [parse_envelope(m.value).data for m in drain(bus, RESULTS)]
    assert [(r["submission_id"], r["status"]) for r in announced] == [("synth-small", "published")]
    assert len(units) == 2
    assert sorted(len(u["batches"]) for u in units) == [1, 2]  # 30 + 30 + 10 rows
    runs = [r for u in units for r in u["runs"]]
    assert [Path(r).name.split("-")[1] for r in runs] == ["big"]
    for unit in units:
        harmonize_unit(unit, env)
    results = publish_units(units, env)
    assert [(r["submission_id"], r["status"]) for r in results] == [("synth-big", "published")]
    assert receive_and_read([{"flush": 2.0}], env) == []  # nothing came: the run is skipped
