"""Throughput of ``harmonize.pipeline.ingest`` on synthetic HPO case-template submissions.

For each size (default 1k, 100k and 1M individuals, about ten HPO cells observed or
excluded each, see ``bench/synth.py``) this:

1. generates the submission (a case-template CSV with its two header rows) in bounded
   memory;
2. in a fresh subprocess and a fresh workspace (the compiled ontology index copied in,
   as a long-lived deployment has it): imports Harmonize, runs a 10-individual warm-up
   ingest (Great Expectations import and context, suites, ontology index load), then
   times the whole ``ingest`` of the submission, wall clock. It checks that the
   submission is published with the row counts the generator predicts, and reports the
   process's peak RSS;
3. in another subprocess, times a lower bound for the same output: the published
   Parquet tables, read back into memory untimed, written again with
   ``pyarrow.parquet.write_table`` (zstd), plus every published Phenopacket, read back
   into dicts untimed, written with ``orjson.dumps(doc, option=OPT_INDENT_2)`` to one file
   each.

The subprocesses run ``bench/throughput_child.py``. It prints, per size: ingest seconds
warm (after the warm-up) and cold (warm plus the one-time process start-up: imports and
the warm-up ingest), individuals/s (warm), peak RSS, the lower bound and the ratio
warm / bound. The targets of issue #14, judged on the warm figure: 100k and 1M individuals
at no more than 2x the bound; peak memory flat with size, 1M individuals under 768 MB
(the first round's were 5x at 100k and 1.5 GB). Nothing is
asserted on timings; the exit status is non-zero only when a submission is not published
or its counts are wrong.

    uv run --frozen python bench/throughput.py [--sizes 1000,100000,1000000]
        [--repeat N] [--no-gx] [--profile] [--profile-size 100000]
        [--workdir DIR] [--keep]

``--repeat N`` ingests each size N times in the same process (as different
submissions) and reports medians; the default is 3 up to 10k individuals, else 1.
``--profile`` runs one more ingest of the ``--profile-size`` submission under cProfile
(after the timed runs, so they are not slowed) and prints the top 25 functions by
cumulative and by own time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import synth  # noqa: E402
from throughput_child import log  # noqa: E402

WARMUP_ROWS = 10
PREPARE_ROWS = 20
TARGET_RATIO = 2.0
TARGET_RSS_MB = 768
DEFAULT_SIZES = (1_000, 100_000, 1_000_000)


def run_child(kind: str, spec: dict[str, Any], workdir: Path) -> tuple[dict[str, Any] | None, str]:
    """Run one child in a fresh interpreter; its result, or None and why it failed."""
    spec_path = workdir / f"{kind}-{time.monotonic_ns()}.json"
    result_path = spec_path.with_suffix(".result.json")
    spec_path.write_text(json.dumps(spec))
    proc = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve().parent / "throughput_child.py"),
            kind,
            str(spec_path),
            str(result_path),
        ],
        check=False,
    )
    if proc.returncode != 0 or not result_path.exists():
        how = (
            f"killed by signal {-proc.returncode}"
            if proc.returncode < 0
            else f"exit status {proc.returncode}"
        )
        return None, f"{kind} child failed ({how})"
    return json.loads(result_path.read_text()), ""


# -- parent -----------------------------------------------------------------------------


@dataclass
class SizeResult:
    size: int
    gen_s: float = 0.0
    csv_mb: float = 0.0
    import_s: float = 0.0
    warmup_s: float = 0.0
    warm: list[float] = field(default_factory=list)
    bound: list[float] = field(default_factory=list)
    bound_parquet: list[float] = field(default_factory=list)
    bound_json: list[float] = field(default_factory=list)
    rss_warmup_mb: float = 0.0
    rss_peak_mb: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def warm_s(self) -> float:
        return statistics.median(self.warm) if self.warm else float("nan")

    @property
    def cold_s(self) -> float:
        return self.import_s + self.warmup_s + self.warm_s

    @property
    def bound_s(self) -> float:
        return statistics.median(self.bound) if self.bound else float("nan")

    @property
    def ratio(self) -> float:
        return self.warm_s / self.bound_s if self.bound else float("nan")


def _source_copies(base: Path, size: int, count: int, tag: str) -> list[Path]:
    """Submissions sharing ``base``'s CSV (hard links) under other submission ids."""
    out = []
    for k in range(count):
        sid = f"synth-{size}-{tag}{k}"
        path = base.parent / sid
        path.mkdir()
        os.link(base / "cases.csv", path / "cases.csv")
        synth.write_manifest(path, sid)
        out.append(path)
    return out


def check_counts(run: dict[str, Any], expected: dict[str, int]) -> list[str]:
    problems = []
    if run["status"] != "published":
        problems.append(
            f"{run['submission_id']}: {run['status']} ({run['message']}; report {run['report']})"
        )
    got = {k: v for k, v in run["counts"].items() if k in expected}
    if run["status"] == "published" and got != expected:
        problems.append(f"{run['submission_id']}: counts {run['counts']} != expected {expected}")
    if any(run["findings"].get(level) for level in ("error", "warning")):
        problems.append(f"{run['submission_id']}: findings {run['findings']}")
    return problems


def bench_size(size: int, args: argparse.Namespace, workdir: Path, cache: Path) -> SizeResult:
    res = SizeResult(size)
    root = workdir / f"size-{size}"
    root.mkdir()
    log(f"[{size:,}] generating the submission")
    started = time.perf_counter()
    base = root / "base"
    stats = synth.write_submission(base, size, seed=args.seed)
    res.gen_s = time.perf_counter() - started
    res.csv_mb = stats.csv_bytes / 1e6
    expected = stats.expected_counts
    repeat = args.repeat or (3 if size <= 10_000 else 1)
    sources = _source_copies(base, size, repeat, "r")
    profile = size == args.profile_size and args.profile
    profile_source = _source_copies(base, size, 1, "profile")[0] if profile else None
    warmup = root / "warmup"
    synth.write_submission(warmup, WARMUP_ROWS, submission_id="warmup", seed=args.seed + 1)
    log(
        f"[{size:,}] {res.csv_mb:.0f} MB CSV in {res.gen_s:.1f} s; expecting {expected}; "
        f"ingesting {repeat}x in a fresh process"
    )
    workspace = root / "workspace"
    spec: dict[str, Any] = {
        "workspace": str(workspace),
        "cache": str(cache),
        "gx": not args.no_gx,
        "warmup": str(warmup),
        "sources": [str(s) for s in sources],
    }
    if profile_source is not None:
        spec.update(
            profile=str(profile_source),
            profile_rows=size,
            profile_out=str(workdir / f"ingest-{size}.prof") if args.keep else None,
        )
    got, failure = run_child("ingest", spec, workdir)
    if got is None:
        res.problems.append(failure)
        return res
    res.import_s, res.warmup_s = got["import_s"], got["warmup_s"]
    res.rss_warmup_mb, res.rss_peak_mb = got["rss_warmup_mb"], got["rss_peak_mb"]
    if got["warmup_status"] != "published":
        res.problems.append(f"warm-up submission: {got['warmup_status']}")
    if profile and got.get("profile_status") != "published":
        res.problems.append(f"profiled submission: {got.get('profile_status')}")
    for run in got["runs"]:
        problems = check_counts(run, expected)
        res.problems += problems
        if run["status"] != "published":
            continue
        res.warm.append(run["seconds"])
        log(f"[{size:,}] lower bound for {run['submission_id']}")
        bound, failure = run_child(
            "bound",
            {
                "workspace": str(workspace),
                "submission_id": run["submission_id"],
                "dest": str(root / "bound"),
            },
            workdir,
        )
        if bound is None:
            res.problems.append(failure)
            continue
        res.bound.append(bound["seconds"])
        res.bound_parquet.append(bound["parquet_s"])
        res.bound_json.append(bound["json_s"])
        if bound["phenopackets"] != size or not bound["ids_ok"]:
            res.problems.append(
                f"{run['submission_id']}: {bound['phenopackets']} phenopacket files, not {size}"
            )
        tables = {k: v for k, v in bound["rows"].items() if k in expected}
        if tables != expected:
            res.problems.append(f"{run['submission_id']}: Parquet rows {tables} != {expected}")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return res


def _fmt(value: float, spec: str) -> str:
    return "-" if value != value else format(value, spec)  # NaN -> "-"


def print_table(results: list[SizeResult], args: argparse.Namespace) -> None:
    head = (
        f"{'individuals':>11}  {'runs':>4}  {'warm s':>8}  {'cold s':>8}  {'indiv/s':>9}  "
        f"{'peak RSS MB':>11}  {'bound s':>8}  {'pq s':>6}  {'json s':>7}  {'ratio':>6}"
    )
    print()
    print(
        f"Harmonize ingest throughput ({'GX on' if not args.no_gx else 'GX off'}, "
        f"hpo-case-template CSV, ~10 HPO cells per individual)"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        print(
            f"{r.size:>11,}  {len(r.warm):>4}  {_fmt(r.warm_s, '.2f'):>8}  "
            f"{_fmt(r.cold_s, '.2f'):>8}  "
            f"{_fmt(r.size / r.warm_s if r.warm else float('nan'), ',.0f'):>9}  "
            f"{_fmt(r.rss_peak_mb, ',.0f'):>11}  {_fmt(r.bound_s, '.2f'):>8}  "
            f"{_fmt(statistics.median(r.bound_parquet) if r.bound else float('nan'), '.2f'):>6}  "
            f"{_fmt(statistics.median(r.bound_json) if r.bound else float('nan'), '.2f'):>7}  "
            f"{_fmt(r.ratio, '.2f'):>6}"
        )
    print()
    print(
        "warm s: wall clock of ingest() after a warm-up ingest in the same process (median "
        "of the runs); cold s: warm + the one-time process start-up (harmonize import, then "
        f"a {WARMUP_ROWS}-individual first ingest: GX import and context, suites, ontology "
        "index load). indiv/s and ratio use warm s. bound s: pyarrow write_table (zstd) of "
        "the same tables (pq s) + orjson OPT_INDENT_2 of the same phenopackets, one file each "
        "(json s). Peak RSS: the ingest process's ru_maxrss."
    )
    for r in results:
        print(
            f"  {r.size:>9,}: CSV {r.csv_mb:,.1f} MB generated in {r.gen_s:.1f} s; "
            f"import {r.import_s:.2f} s + warm-up {r.warmup_s:.2f} s; "
            f"RSS after warm-up {r.rss_warmup_mb:,.0f} MB"
        )
    print()
    print(
        f"Targets (judged on the warm figure): 100k and 1M individuals at <= {TARGET_RATIO:g}x the "
        f"lower bound; peak RSS flat with size, 1M individuals < {TARGET_RSS_MB:,.0f} MB."
    )
    for r in results:
        notes = []
        if r.size in (100_000, 1_000_000) and r.bound:
            notes.append(
                f"ratio {r.ratio:.2f} {'<=' if r.ratio <= TARGET_RATIO else '>'} {TARGET_RATIO:g}"
            )
        if r.size == 1_000_000 and r.rss_peak_mb:
            ok = r.rss_peak_mb < TARGET_RSS_MB
            notes.append(
                f"peak RSS {r.rss_peak_mb:,.0f} MB {'<' if ok else '>='} {TARGET_RSS_MB:,.0f} MB"
            )
        if notes:
            print(f"  {r.size:>9,}: " + "; ".join(notes))
    for r in results:
        for problem in r.problems:
            print(f"  PROBLEM at {r.size:,}: {problem}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time harmonize ingest on synthetic case-template submissions."
    )
    parser.add_argument(
        "--sizes",
        default=",".join(str(s) for s in DEFAULT_SIZES),
        help="comma-separated individual counts (default 1000,100000,1000000)",
    )
    parser.add_argument(
        "--repeat", type=int, default=0, help="ingests per size (default 3 up to 10k, else 1)"
    )
    parser.add_argument("--no-gx", action="store_true", help="run without Great Expectations")
    parser.add_argument("--profile", action="store_true", help="cProfile one more ingest")
    parser.add_argument("--profile-size", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, help="where to put temporary data")
    parser.add_argument("--keep", action="store_true", help="keep generated data and workspaces")
    args = parser.parse_args(argv)
    args.sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    if args.profile and args.profile_size not in args.sizes:
        parser.error(f"--profile-size {args.profile_size} is not one of --sizes")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="harmonize-throughput-", dir=args.workdir))
    import pyarrow

    log(
        f"python {platform.python_version()}, pyarrow {pyarrow.__version__}, "
        f"{os.cpu_count()} CPUs; GX {'off' if args.no_gx else 'on'}; working in {workdir}"
    )
    try:
        prep = workdir / "prepare"
        synth.write_submission(prep / "source", PREPARE_ROWS, submission_id="prepare")
        cache = workdir / "ontology-cache"
        log("compiling the ontology indexes once (a tiny ingest; not timed)")
        got, failure = run_child(
            "prepare",
            {
                "workspace": str(prep / "workspace"),
                "source": str(prep / "source"),
                "cache": str(cache),
                "gx": not args.no_gx,
            },
            workdir,
        )
        if got is None or got["status"] != "published":
            log(f"preparation failed: {failure or got}")
            return 2
        log(f"prepared in {got['seconds']:.1f} s (harmonize from {got['harmonize']})")
        results = [bench_size(size, args, workdir, cache) for size in args.sizes]
        print_table(results, args)
        return 1 if any(r.problems for r in results) else 0
    finally:
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
