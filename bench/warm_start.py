"""First ingest in a forked task process: after ``preload()`` only vs after ``warm()`` too.

Airflow's LocalExecutor forks task processes from the scheduler, which calls
``harmonize.orchestrate.preload.preload()`` and ``warm(settings)`` first
(``infra/airflow/airflow_local_settings.py``). This bench plays the scheduler:

1. imports Harmonize's heavy modules with ``preload()``;
2. in a forked child, ingests a small submission once, so the workspace database is at
   the head revision and the ontology indexes are compiled, as in a running deployment;
3. ``--repeat`` times each, interleaved, in a fresh forked process: the parent as it is
   (``preload`` only), or the parent after ``warm(settings)`` (done in an intermediate
   fork, so the baseline parent stays cold), forks a task process that times its first
   ``ingest`` of a new ``--rows`` individual synthetic submission (``bench/synth.py``),
   then its second one (the floor: everything warm).

It prints the median first ingest of each kind, the ratio preload-only / warm, and the
median second ingest. Nothing is asserted on timings; the exit status is non-zero only
when a submission is not published.

    uv run --frozen python bench/warm_start.py [--rows 100] [--repeat 3] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import synth  # noqa: E402

FORK = multiprocessing.get_context("fork")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _task(settings: Any, sources: list[Path], out: Connection) -> None:
    """A task process: time each ingest; send (seconds, status) pairs."""
    from harmonize.pipeline import ingest

    runs = []
    for source in sources:
        started = time.perf_counter()
        result = ingest(source, settings)
        runs.append((time.perf_counter() - started, result.status))
    out.send(runs)


def _fork_task(settings: Any, sources: list[Path], warm: bool, out: Connection) -> None:
    """The scheduler as it forks a task: optionally warmed first."""
    if warm:
        from harmonize.orchestrate.preload import warm as warm_up

        log(f"  warm(settings) {warm_up(settings):.2f} s")
    task = FORK.Process(target=_task, args=(settings, sources, out))
    task.start()
    task.join()


def run(settings: Any, sources: list[Path], *, warm: bool) -> list[tuple[float, str]]:
    receive, send = FORK.Pipe(duplex=False)
    parent = FORK.Process(target=_fork_task, args=(settings, sources, warm, send))
    parent.start()
    runs: list[tuple[float, str]] = receive.recv()
    parent.join()
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, help="default: a new temporary directory")
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="harmonize-warm-start-"))
    workdir.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    from harmonize.orchestrate.preload import preload

    preload()
    log(f"preload() {time.perf_counter() - started:.2f} s")
    from harmonize.settings import Settings

    settings = Settings(workspace=workdir / "ws", ontology_cache=workdir / "cache")

    def submission(name: str) -> Path:
        synth.write_submission(workdir / name, args.rows, submission_id=name, seed=len(name))
        return workdir / name

    setup = run(settings, [submission("setup")], warm=False)
    log(f"setup ingest (migrates, compiles the indexes) {setup[0][0]:.2f} s: {setup[0][1]}")

    first: dict[bool, list[float]] = {False: [], True: []}
    second: list[float] = []
    failed = 0
    for i in range(args.repeat):
        for warm in (False, True):
            kind = "warm" if warm else "cold"
            sources = [submission(f"{kind}-{i}-a"), submission(f"{kind}-{i}-b")]
            runs = run(settings, sources, warm=warm)
            failed += sum(status != "published" for _, status in runs)
            first[warm].append(runs[0][0])
            second.append(runs[1][0])
            log(f"  {kind} #{i + 1}: first {runs[0][0]:.2f} s, second {runs[1][0]:.2f} s")

    cold_s, warm_s = statistics.median(first[False]), statistics.median(first[True])
    print(f"first ingest of {args.rows} individuals in a forked task process")
    print(f"(median of {args.repeat}, {len(second)} second ingests)")
    print(f"  after preload() only:        {cold_s:.2f} s")
    print(f"  after preload() + warm():    {warm_s:.2f} s")
    print(f"  ratio preload-only / warm:   {cold_s / warm_s:.2f}")
    print(f"  second ingest (floor):       {statistics.median(second):.2f} s")
    if failed:
        print(f"{failed} ingests were not published", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
