"""Bodies of the DAG tasks: environment in, settings built, one stage called, paths out.

The DAG files are edges (they may read the environment) and stay thin: each task
imports one function from here and passes ``os.environ``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harmonize.orchestrate.config import settings_from_env

if TYPE_CHECKING:
    from harmonize.orchestrate.fanout import Planned
    from harmonize.settings import Settings

DAG_SOURCE = "urn:harmonize:airflow:harmonize_ingest"
log = logging.getLogger(__name__)


def _bus(env: Mapping[str, str]) -> Any:
    from harmonize.events import open_bus

    return open_bus(settings_from_env(env).events)


def receive_events(payloads: list[Any], env: Mapping[str, str]) -> list[dict[str, Any]]:
    """Receive every triggering event; malformed ones are dead-lettered and dropped."""
    from harmonize.orchestrate.stages import receive_event
    from harmonize.orchestrate.trigger import payload_bytes

    settings = settings_from_env(env)
    bus = _bus(env)
    received = []
    try:
        for payload in payloads:
            if not payload or "value_b64" not in payload:
                continue  # a tombstone, or the trigger's flush (see kafka_trigger)
            origin = {k: payload.get(k) for k in ("topic", "partition", "offset", "key")}
            got = receive_event(payload_bytes(payload), settings, bus, origin=origin)
            if got is not None:
                received.append(got.to_dict())
    finally:
        bus.close()
    return received


def read_received(received: list[dict[str, Any]], env: Mapping[str, str]) -> list[dict[str, Any]]:
    """The read stage for every received submission, and the ``harmonize`` tasks to map.

    A submission that reads into at most one batch (``HARMONIZE_BATCH_SIZE`` rows), or
    whose outcome was decided at read, has nothing to fan out: it is harmonized,
    published and announced right here (:func:`run_inline`), so it costs one task start
    instead of three and its result goes out before the next submission is read. The same functions run as in the mapped tasks, so the checks and outputs are the
    same. A submission that fails inline is handed to the mapped tasks instead, whose
    retries take it up; so is every event of a submission id after one that fans out, so
    its versions still publish in the order of their events.

    Each fanned-out submission's :class:`~harmonize.orchestrate.fanout.Planned` is saved in
    its run directory. Returns one unit per mapped ``harmonize`` task: ``batches`` (at most
    ``HARMONIZE_FANOUT`` units, default the machine's CPUs, balanced by rows) and ``runs``,
    the run directories ``publish`` takes its submissions from, all in the first unit in
    the order of their events (so a submission's versions publish in that order; they
    were spread over the units before, and a later version could overtake an earlier
    one). Nothing left: ``[]``.
    """
    from harmonize.orchestrate import handoff
    from harmonize.orchestrate.fanout import read_submission, work_units
    from harmonize.orchestrate.stages import Received
    from harmonize.pipeline import open_stores

    if not received:
        return []
    settings = settings_from_env(env)
    stores = open_stores(settings)  # once for the run: it also rolls interrupted commits forward
    planned = []
    fanned: set[str] = set()  # submission ids with a version that fans out
    bus = None
    try:
        for item in received:
            p = read_submission(Received.from_dict(item), settings, stores=stores)
            sid = p.received.submission_id
            if len(p.batches) <= 1 and sid not in fanned:
                bus = bus or _bus(env)
                if run_inline(p, settings, stores=stores, bus=bus, faults=_faults(env)):
                    continue
                p = _left_to_harmonize(p)
            fanned.add(sid)
            planned.append(p)
    finally:
        if bus is not None:
            bus.close()
    if not planned:
        return []
    for p in planned:  # for tasks on other hosts, when the warehouse is an object store
        handoff.push(Path(p.received.run_dir), settings)
    units: list[dict[str, Any]] = [
        {"batches": batches, "runs": []} for batches in work_units(planned, units=fanout_width(env))
    ] or [{"batches": [], "runs": []}]
    units[0]["runs"] = [p.received.run_dir for p in planned]  # publish keeps the event order
    return units


def run_inline(
    planned: Planned, settings: Settings, *, stores: Any, bus: Any, faults: Path | None = None
) -> bool:
    """Harmonize, publish and announce a submission of at most one batch in this task.

    The functions of the mapped ``harmonize`` task and of ``publish`` (the same checks, the
    same fault-injection hook, the same commit). ``False`` when it failed (logged): the
    caller hands it to those tasks, whose retries take it up where it stopped.
    """
    from harmonize.orchestrate.fanout import harmonize_batches, publish_submission
    from harmonize.orchestrate.faults import crash_hook
    from harmonize.orchestrate.stages import announce

    sid = planned.received.submission_id
    try:
        harmonize_batches(planned.batches, settings)
        hook = crash_hook(faults, sid)
        path = publish_submission(planned, settings, before_commit=hook, stores=stores)
        announce(path, bus, source=DAG_SOURCE)
    except Exception:
        log.exception(
            "%s failed in the receive task; the harmonize and publish tasks retry it", sid
        )
        return False
    return True


def _left_to_harmonize(planned: Planned) -> Planned:
    """``planned`` without the batches a publish already cleared away (it failed after that)."""
    from dataclasses import replace

    from harmonize.orchestrate.fanout import RAW

    kept = [
        (b, n)
        for b, n in zip(planned.batches, planned.rows, strict=True)
        if (Path(b) / RAW).exists()
    ]
    return replace(planned, batches=tuple(b for b, _ in kept), rows=tuple(n for _, n in kept))


def receive_and_read(payloads: list[Any], env: Mapping[str, str]) -> list[dict[str, Any]]:
    """The ``receive`` task: :func:`receive_events`, then :func:`read_received`."""
    return read_received(receive_events(payloads, env), env)


def _faults(env: Mapping[str, str]) -> Path | None:
    """The fault-injection directory of the crash tests (``HARMONIZE_FAULTS_DIR``), if any."""
    return Path(env["HARMONIZE_FAULTS_DIR"]) if env.get("HARMONIZE_FAULTS_DIR") else None


def fanout_width(env: Mapping[str, str]) -> int:
    """How many ``harmonize`` tasks one run maps at most (``HARMONIZE_FANOUT``)."""
    import os

    return max(int(env.get("HARMONIZE_FANOUT") or os.cpu_count() or 2), 1)


def harmonize_unit(unit: dict[str, Any], env: Mapping[str, str]) -> list[str]:
    """Check, map and check a unit's raw batches (one mapped task).

    With an object store the unit's runs are pulled onto this host first and each batch's
    output (tables, files, Data Docs pages, findings in its outcome) is pushed back
    (:mod:`harmonize.orchestrate.handoff`), for ``publish`` to assemble the report from.
    """
    import socket

    from harmonize.orchestrate import handoff
    from harmonize.orchestrate.fanout import harmonize_batches

    settings = settings_from_env(env)
    log.info("harmonizing %d batches on host %s", len(unit["batches"]), socket.gethostname())
    if not handoff.shared(settings):
        return harmonize_batches(unit["batches"], settings)
    handoff.pull(
        {str(Path(b).parent.parent) for b in unit["batches"]},
        settings,
        batches={Path(b).name for b in unit["batches"]},
    )
    done = []
    for batch in unit["batches"]:
        local = handoff.local_batch(batch, settings)
        harmonize_batches([str(local)], settings)
        handoff.push(local.parent.parent, settings, under=f"batches/{local.name}")
        done.append(str(local))
    return done


def publish_units(units: list[dict[str, Any]], env: Mapping[str, str]) -> list[dict[str, Any]]:
    """Publish (or reject) each submission of the run and announce its result at once.

    One task for the run's submissions (``runs`` of every unit): a small one costs less
    than starting a task. A failure of one does not hold up the others; the task then
    fails (and is retried) once they are done, and the retry finds them published already
    and announces them again (at least once: consumers dedupe on the submission id and
    sha-256). Returns the results (small) for the task's XCom.
    """
    from harmonize.orchestrate import handoff
    from harmonize.orchestrate.fanout import Planned, publish_submission
    from harmonize.orchestrate.faults import crash_hook
    from harmonize.orchestrate.stages import announce
    from harmonize.pipeline import open_stores

    settings = settings_from_env(env)
    stores = open_stores(settings)  # once for the run: it also rolls interrupted commits forward
    faults = _faults(env)
    results, failures = [], []
    bus = _bus(env)
    try:
        for run_dir in (r for unit in units for r in unit["runs"]):
            try:
                local = handoff.pull([run_dir], settings)[run_dir]
                planned = Planned.load(local)
                got = planned.received
                hook = crash_hook(faults, got.submission_id)
                path = publish_submission(planned, settings, before_commit=hook, stores=stores)
                results.append(announce(path, bus, source=DAG_SOURCE).model_dump(mode="json"))
                handoff.push(local, settings, under=path.name)
            except Exception as exc:  # the others still publish; this task is then retried
                log.exception("publishing %s failed", run_dir)
                failures.append(f"{Path(run_dir).name}: {exc!r}")
    finally:
        bus.close()
    if failures:
        from harmonize.errors import TransientError

        raise TransientError(
            f"{len(failures)} submissions failed to publish: " + "; ".join(failures),
            hint="the task is retried",
        )
    return results


def scan_landing_zone(env: Mapping[str, str]) -> list[dict[str, Any]]:
    """The landing scan over the configured landing store (a directory or S3)."""
    from dataclasses import asdict

    from harmonize.orchestrate.scan import scan_landing

    settings = settings_from_env(env)
    bus = _bus(env)
    try:
        found = scan_landing(
            settings,
            bus,
            landing=settings.landing,
            min_age_s=float(env.get("HARMONIZE_SCAN_MIN_AGE", "60")),
            stale_after_s=float(env.get("HARMONIZE_SCAN_STALE", "300")),
        )
    finally:
        bus.close()
    return [asdict(f) for f in found]


def refresh_ontologies_env(env: Mapping[str, str]) -> list[dict[str, Any]]:
    from harmonize.orchestrate.refresh import refresh_ontologies

    settings = settings_from_env(env)
    incoming = env.get("HARMONIZE_ONTOLOGY_INCOMING") or str(
        settings.workspace / "ontologies-incoming"
    )
    return refresh_ontologies(settings, incoming=Path(incoming))
