"""The receive task publishes a one-batch submission itself, as the three tasks would have."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from harmonize.events import RESULTS, SUBMISSIONS, parse_envelope
from harmonize.intake import submit
from harmonize.orchestrate import stages
from harmonize.orchestrate.tasks import harmonize_unit, publish_units, receive_and_read
from harmonize.orchestrate.trigger import message_payload
from harmonize.pipeline import ingest
from harmonize.settings import Settings
from harmonize.state.store import StateStore
from tests.orchestrate.conftest import drain
from tests.orchestrate.test_fanout import documents, findings, tables

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from synth import write_submission

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def env_of(settings: Settings, batch_size: int = 30) -> dict[str, str]:
    return {
        "HARMONIZE_WORKSPACE": str(settings.workspace),
        "HARMONIZE_EVENTS_URL": settings.events,
        "HARMONIZE_LANDING_URL": settings.landing or "",
        "HARMONIZE_ONTOLOGY_CACHE": str(settings.cache_dir),
        "HARMONIZE_ON_CONFLICT": settings.on_conflict,
        "HARMONIZE_BATCH_SIZE": str(batch_size),
        "HARMONIZE_FANOUT": "2",
    }


def send(settings: Settings, bus: Any, into: Path, *subs: tuple[str, int, int]) -> list[Any]:
    """Submit ``(submission id, rows, seed)`` each; the events as the trigger hands them over."""
    for sid, rows, seed in subs:
        write_submission(into / f"{sid}-{seed}", rows, submission_id=sid, seed=seed)
        submit(into / f"{sid}-{seed}", settings, bus=bus)
    return [message_payload(m) for m in drain(bus, SUBMISSIONS)]


def results(bus: Any) -> list[tuple[str, str]]:
    return [
        (e.data["submission_id"], e.data["status"])
        for e in (parse_envelope(m.value) for m in drain(bus, RESULTS))
    ]


def commits(settings: Settings, sid: str) -> int:
    history = StateStore(settings.registry).history(sid)
    return sum(h["status"] == "published" and h["detail"] == "committed" for h in history)


def test_inline_publication_equals_one_process_ingest(
    settings: Settings, bus: Any, tmp_path: Path
) -> None:
    payloads = send(settings, bus, tmp_path / "in", ("synth-one", 25, 7))
    assert receive_and_read(payloads, env_of(settings)) == []  # nothing left to fan out
    result_event = parse_envelope(drain(bus, RESULTS)[0].value).data
    assert result_event["status"] == "published"

    alone = settings.model_copy(update={"workspace": tmp_path / "alone"})
    one = ingest(tmp_path / "in" / "synth-one-7", alone)
    assert one.status == "published" and one.report_json is not None
    assert result_event["object_count"] == one.objects
    assert tables(settings.workspace, "synth-one") == tables(alone.workspace, "synth-one")
    assert documents(settings.workspace, "synth-one") == documents(alone.workspace, "synth-one")
    assert findings(Path(result_event["report_uri"])) == findings(one.report_json)
    assert commits(settings, "synth-one") == 1
    (run_dir,) = (settings.workspace / "runs").iterdir()
    assert json.loads((run_dir / "result.json").read_text())["status"] == "published"
    assert not (run_dir / "batches").exists()  # the hand-off files go, as after publish


def test_a_rejected_small_submission_is_announced_by_the_receive_task(
    settings: Settings, bus: Any, tmp_path: Path
) -> None:
    source = tmp_path / "in" / "synth-bad"
    write_submission(source, 12, submission_id="synth-bad", seed=2)
    cases = source / "cases.csv"
    lines = cases.read_text().splitlines()
    lines[5] = lines[4]  # data row 4 repeats data row 3: a duplicate id rejects it
    cases.write_text("\n".join(lines) + "\n")
    submit(source, settings, bus=bus)
    payloads = [message_payload(m) for m in drain(bus, SUBMISSIONS)]
    assert receive_and_read(payloads, env_of(settings)) == []
    assert results(bus) == [("synth-bad", "rejected")]
    assert not (settings.workspace / "published" / "phenopackets" / "synth-bad").exists()


@pytest.mark.parametrize("fails", ["publish", "announce"])
def test_a_small_submission_failing_inline_is_left_to_the_mapped_tasks(
    fails: str, settings: Settings, bus: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transient failure before the commit, or after it (the result event not sent): the
    harmonize and publish tasks take the submission up, and it is published once."""
    from harmonize.orchestrate import fanout

    def once(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.undo()  # the retry finds the broker back
        raise ConnectionError("the broker went away")

    if fails == "publish":  # before anything is staged
        monkeypatch.setattr(fanout, "publish_submission", once)
    else:  # committed, but the result event cannot be sent
        monkeypatch.setattr(stages, "announce", once)
    env = env_of(settings)
    payloads = send(settings, bus, tmp_path / "in", ("synth-flaky", 20, 1), ("synth-fine", 20, 2))
    units = receive_and_read(payloads, env)
    assert results(bus) == [("synth-fine", "published")]  # the other one did not wait
    assert [Path(r).name.split("-")[1] for u in units for r in u["runs"]] == ["flaky"]
    for unit in units:
        harmonize_unit(unit, env)
    assert [(r["submission_id"], r["status"]) for r in publish_units(units, env)] == [
        ("synth-flaky", "published")
    ]
    assert results(bus) == [("synth-flaky", "published")]
    assert commits(settings, "synth-flaky") == 1


def test_a_later_version_waits_for_the_earlier_one_that_fans_out(
    settings: Settings, bus: Any, tmp_path: Path
) -> None:
    """Version 2 is small, but version 1 of the same submission fans out: 2 must not
    overtake 1, so it goes to the mapped tasks too and publishes after it."""
    env = env_of(settings)
    payloads = send(
        settings, bus, tmp_path / "in", ("synth-v", 70, 1), ("synth-v", 10, 2), ("synth-o", 10, 3)
    )
    units = receive_and_read(payloads, env)
    assert results(bus) == [("synth-o", "published")]
    runs = [r for u in units for r in u["runs"]]
    assert len(runs) == 2
    for unit in units:
        harmonize_unit(unit, env)
    published = publish_units(units, env)
    assert [(r["submission_id"], r["version"]) for r in published] == [
        ("synth-v", 1),
        ("synth-v", 2),
    ]
