"""Delta Lake or Apache Iceberg for the published tables? The same workload on both.

The data (full mode) is real pipeline output: a 100k-individual case-template submission
from ``bench/synth.py``, ingested with ``harmonize.pipeline.ingest`` (the children of
``bench/throughput.py``, Great Expectations off: it does not change the tables), its
published Parquet tables read back. The case template fills no measurement, so the
``measurements`` table gets one synthesized row per individual in its exact published
schema. ``--quick`` skips the pipeline and synthesizes all five tables with the published
schemas. Every table gains ``submission_id`` as its partition column in both formats.

Partitioning, the same in both formats: identity on ``submission_id``. Every lifecycle
operation is scoped to one submission (a new version, a withdrawal, an erasure within it),
so the files to rewrite are found from partition values alone, which the formats keep in
their metadata whatever the column statistics (and erasure wants those off), and a
submission never shares a file with another, so compaction cannot widen a later rewrite.
The price shows at 1,000 submissions: at least one small file per submission and table, so
whole-table scans pay per file. Bucketing (Iceberg ``bucket(N, submission_id)``) or no
partitioning would give fewer, larger files but make every replacement or deletion rewrite
files shared with other submissions, its cost growing with the bucket, not the change.

Each step runs in a fresh child process (peak RSS is the child's ``ru_maxrss``):

1. **append** the publication to five new tables, per table and in total, against
   ``pyarrow.parquet.write_table`` (zstd) of the same tables: the lower bound of
   ``bench/throughput.py``;
2. **DuckDB** offline (extensions loaded from their wheels) on those tables: ``count(*)``
   per table and a filtered count, checked against the format's own scan, and timed against
   ``read_parquet`` of the bound's files;
3. **lifecycle** at 10 and 1,000 prior publications of 100 individuals each (cut from the
   100k tables, so the 1,000-publication table holds all of them), for Delta without and
   with per-file column statistics in its log, and Iceberg: all but the last 10
   publications are committed 10 at a time, then the format's upkeep runs (Delta: a
   checkpoint; Iceberg: all but the last 10 snapshots expired), then the last 10 are
   appended one by one (timed). Then, five times each on other submissions: open the five
   tables, replace one submission (a new version, one commit per table), delete one
   individual in every table, read all five tables, read one submission, and both reads
   again as of the version before these operations (time travel). Ratio 1,000 / 10;
4. **history**: one table, one-publication commits one after another: the cost of a commit
   as versions pile up (Delta with its handle kept open, or reopened after each checkpoint;
   Iceberg with every snapshot kept, all but the last 10 expired every 10 commits, and that
   plus manifest merging), then what opening the table and reading one submission cost;
5. **erasure**: three publications, one replaced, one individual deleted from all five
   tables, each format with and without column statistics in its metadata; then the
   format's usual maintenance, then full expiry; after each, every file
   under the tables (and the Iceberg catalog database) is searched, decompressed, for the
   individual's id and for its date of birth (a short value nobody else has, so a column
   statistic keeps it whole); an individual kept is searched for too, as a control;
6. **S3**: append and delete against a moto server, and whether concurrent commits are safe.

    uv run --frozen python bench/table_formats.py [--quick] [--only STEPS]
        [--formats delta,iceberg] [--keep] [--workdir DIR] [--reuse WORKSPACE]

The full mode takes about half an hour on 2 busy cores (the Iceberg table of 1,000
publications most of it). ``--quick`` (2k synthesized individuals, 4 vs 12 publications of
10, S3 on one table) takes about a minute there; it checks that everything runs.

Nothing is asserted on timings. The exit status is 1 when a check fails (row counts, the
replaced or deleted rows, DuckDB's counts).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from formats import report  # noqa: E402

STEPS = ("append", "duck", "lifecycle", "history", "erasure", "s3")
FORMATS = ("delta", "iceberg")
HISTORY = ("delta-handle", "delta", "iceberg", "iceberg-expire", "iceberg-merge-expire")
ERASURE = ("delta-stats", "delta", "iceberg-stats", "iceberg")


@dataclass(frozen=True)
class Mode:
    rows: int  # individuals of the publication
    real: bool  # ingest with the pipeline, or synthesize the tables
    append_repeat: int
    counts: tuple[int, int]  # prior publications
    per: int  # individuals per small publication
    tail: int  # publications appended one by one at the end of the build
    group: int  # publications per commit before that
    repeat: int  # repeats of each lifecycle operation
    history: int  # commits in the history step
    duck_repeat: int
    s3_tables: tuple[str, ...]  # the tables written to S3
    s3_writers: int  # concurrent writers on S3, each appending twice
    lifecycle: tuple[str, ...]  # the variants run through the lifecycle


TABLES = ("individuals", "phenotypic_features", "diseases", "variants", "measurements")
FULL = Mode(
    100_000,
    True,
    3,
    (10, 1_000),
    100,
    10,
    10,
    5,
    200,
    5,
    TABLES,
    4,
    ("delta", "delta-stats", "iceberg"),
)
QUICK = Mode(2_000, False, 2, (4, 12), 10, 2, 10, 2, 15, 2, TABLES[:1], 2, ("delta", "iceberg"))


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_child(kind: str, spec: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """Run one step in a fresh interpreter; its result (an ``error`` key when it failed)."""
    spec_path = workdir / f"{kind}-{time.monotonic_ns()}.json"
    result_path = spec_path.with_suffix(".result.json")
    spec_path.write_text(json.dumps(spec))
    started = time.perf_counter()
    cmd = [sys.executable, __file__, "_child", kind, str(spec_path), str(result_path)]
    proc = subprocess.run(cmd, check=False)
    if not result_path.exists():
        return {"error": f"{kind} child failed (exit status {proc.returncode})"}
    out: dict[str, Any] = json.loads(result_path.read_text())
    if proc.returncode != 0:  # after its result was written: at interpreter shutdown
        log(f"{kind} child exited with status {proc.returncode} after writing its result")
    out["wall_s"] = time.perf_counter() - started
    log(f"  ({kind} child: {out['wall_s']:.1f} s)")
    return out


def child_main(kind: str, spec_path: str, result_path: str) -> int:
    from formats import steps

    spec = json.loads(Path(spec_path).read_text())
    if kind == "batch":
        result: dict[str, Any] = {"results": []}
        for job_kind, job_spec in spec["jobs"]:
            started = time.perf_counter()
            try:
                got = steps.CHILDREN[job_kind](job_spec)
            except Exception as exc:
                got = {"error": f"{job_kind} failed: {type(exc).__name__}: {exc}"}
            got["wall_s"] = time.perf_counter() - started
            log(f"  ({job_kind} {job_spec.get('format', '')}: {got['wall_s']:.1f} s)")
            result["results"].append(got)
    else:
        result = steps.CHILDREN[kind](spec)
    Path(result_path).write_text(json.dumps(result, default=str))
    sys.stdout.flush()
    sys.stderr.flush()
    # skip the interpreter's teardown: with DuckDB's delta extension and delta-rs loaded in one
    # process it now and then aborts there ("terminate called without an active exception")
    os._exit(0)


def prepare(mode: Mode, args: argparse.Namespace, workdir: Path) -> tuple[Path, str, float]:
    """Write the publication's five tables to ``workdir/pub``; where, what, ingest seconds."""
    import pyarrow.parquet as pq
    from formats import data

    ingest_s = float("nan")
    if args.reuse:
        pub, note = data.load_publication(args.reuse, f"synth-{mode.rows}")
        note += f" (reused from {args.reuse})"
    elif mode.real:
        log(f"generating and ingesting a {mode.rows:,}-individual submission (not timed here)")
        workspace, sid, ingest_s = data.ingest_publication(workdir / "ingest", mode.rows)
        pub, note = data.load_publication(workspace, sid)
    else:
        pub = data.synth_publication(mode.rows, f"synth-{mode.rows}")
        note = "synthesized with the published schemas (--quick), no pipeline run"
    folder = workdir / "pub"
    folder.mkdir(exist_ok=True)
    for name, table in pub.items():
        pq.write_table(table, folder / f"{name}.parquet", compression="zstd")
    rows = ", ".join(f"{n} {t.num_rows:,}" for n, t in pub.items())
    shutil.rmtree(workdir / "ingest", ignore_errors=True)
    return folder, f"{note}; rows: {rows}", ingest_s


Job = tuple[str, str, str, dict[str, Any]]  # step, key in its results, child kind, spec


def jobs(mode: Mode, only: list[str], formats: list[str], pub: Path, workdir: Path) -> list[Job]:
    """Every child run the chosen steps need, in order."""
    spec: dict[str, Any] = {"pub": str(pub)}
    out: list[Job] = []
    roots = {}
    for kind in ("parquet", *formats):
        dest = workdir / "append" / kind
        roots[kind] = str(dest / f"r{mode.append_repeat - 1}")  # the last repeat is kept
        if "append" in only or "duck" in only:
            job = {**spec, "format": kind, "dest": str(dest), "repeat": mode.append_repeat}
            out.append(("append", kind, "append", job))
    if "duck" in only:
        out.append(("duck", "", "duck", {"roots": roots, "repeat": mode.duck_repeat}))
    for kind in [k for k in mode.lifecycle if k.split("-")[0] in formats]:
        for count in mode.counts if "lifecycle" in only else ():
            dest = str(workdir / "lifecycle" / f"{kind}-{count}")
            job = {**spec, "format": kind, "dest": dest, "count": count, "per": mode.per}
            job.update(tail=mode.tail, group=mode.group, repeat=mode.repeat)
            out.append(("lifecycle", f"{kind}/{count}", "lifecycle", {**job, "duck_repeat": 3}))
    for kind in [k for k in HISTORY if k.split("-")[0] in formats] if "history" in only else ():
        dest = str(workdir / "history" / kind)
        job = {**spec, "format": kind, "dest": dest, "commits": mode.history, "per": 10}
        out.append(("history", kind, "history", job))
    for kind in [k for k in ERASURE if k.split("-")[0] in formats] if "erasure" in only else ():
        dest = str(workdir / "erasure" / kind)
        job = {**spec, "format": kind, "dest": dest, "per": min(mode.per, 50)}
        out.append(("erasure", kind, "erasure", job))
    if "s3" in only:
        job = {**spec, "per": mode.per, "tables": mode.s3_tables, "writers": mode.s3_writers}
        out.append(("s3", "", "s3", job))
    return out


def run_jobs(todo: list[Job], mode: Mode, workdir: Path) -> dict[tuple[str, str], Any]:
    """Each job in a child of its own; with ``--quick``, all but the appends in one child."""
    alone = [j for j in todo if j[0] == "append" or mode.real]
    together = [j for j in todo if j not in alone]
    out = {}
    for step, key, kind, spec in alone:
        log(f"{step} {key}".strip())
        out[step, key] = run_child(kind, spec, workdir)
    if together:
        log(
            "the other steps, in one child: "
            + ", ".join(f"{j[0]} {j[1]}".strip() for j in together)
        )
        got = run_child("batch", {"jobs": [[j[2], j[3]] for j in together]}, workdir)
        results = got.get("results") or [got] * len(together)
        for (step, key, _, _), result in zip(together, results, strict=True):
            out[step, key] = result
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    parser.add_argument("--only", default=",".join(STEPS), help=f"steps among {','.join(STEPS)}")
    parser.add_argument("--formats", default=",".join(FORMATS), help="delta,iceberg (both)")
    parser.add_argument("--workdir", type=Path, help="where to put temporary data")
    parser.add_argument("--keep", action="store_true", help="keep the tables and data")
    parser.add_argument("--reuse", type=Path, help="a workspace holding synth-<rows> already")
    args = parser.parse_args(argv)
    mode = QUICK if args.quick else FULL
    only = [s for s in args.only.split(",") if s]
    if unknown := set(only) - set(STEPS):
        parser.error(f"unknown steps {sorted(unknown)}")
    formats = [f for f in args.formats.split(",") if f]
    if unknown := set(formats) - set(FORMATS):
        parser.error(f"unknown formats {sorted(unknown)}")
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="harmonize-formats-", dir=args.workdir))
    started = time.perf_counter()
    try:
        import deltalake
        import duckdb
        import pyarrow
        import pyiceberg

        versions = (
            f"python {platform.python_version()}, deltalake {deltalake.__version__}, "
            f"pyiceberg {pyiceberg.__version__}, duckdb {duckdb.__version__}, "
            f"pyarrow {pyarrow.__version__}; {os.cpu_count()} CPUs"
        )
        log(f"{versions}; working in {workdir}")
        pub, note, ingest_s = prepare(mode, args, workdir)
        results: dict[str, Any] = {"mode": mode, "note": note, "ingest_s": ingest_s}
        results["versions"] = versions
        for (step, key), got in run_jobs(
            jobs(mode, only, formats, pub, workdir), mode, workdir
        ).items():
            results.setdefault(step, {})[key] = got
        if "duck" in results:
            results["duck"] = results["duck"][""]
        if "s3" in results:
            results["s3"] = results["s3"][""]
        results["total_s"] = time.perf_counter() - started
        return report.print_all(results)
    finally:
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "_child":
        raise SystemExit(child_main(*sys.argv[2:]))
    raise SystemExit(main())
