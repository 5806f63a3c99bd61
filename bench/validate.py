"""``harmonize validate`` over a directory of thousands of real Phenopackets, as a whole process.

1. The corpus: the curated Phenopackets of ``../shared/data/phenopacket-store``
   (``<cohort>/phenopackets/*.json`` and ``<cohort>/current/phenopackets/*.json``), copied
   round-robin until there are ``--files`` of them (default 5,000), each copy with its own
   phenopacket id and subject id (``<id>-c<copy>``, ``-cur`` for the current release), one
   folder per cohort and copy. The documents are otherwise unchanged: every copy keeps its
   source's findings.
2. An untimed first run compiles the ontology indexes into the workspace's cache, as a
   deployment has them (the baseline's workspace gets a copy).
3. ``--repeat`` timed runs of ``python -m harmonize.cli validate CORPUS -w WORKSPACE``: wall
   clock of the whole process (start-up, imports and index load included) and the peak RSS
   of its process tree (the sum over the process and its children, sampled every 10 ms with
   psutil; ``bench/throughput.py`` reads one process's ``ru_maxrss``, which misses worker
   processes). The headline line of each run (``N phenopackets: E errors, W warnings``)
   must be the same in every run.
4. ``--baseline-src DIR`` runs the same command with ``PYTHONPATH=DIR`` (a checkout of
   another revision, e.g. ``git archive main | tar -x -C DIR``) alternately with ours in
   the same run, and prints the ratio of the medians; its headline must match ours.

Prints files/s and peak RSS (medians), and the targets of issue #14 item 5: a real corpus
of at least 5,000 files, and the same findings in every run (and as the baseline's).
The issue sets no rate target; nothing is asserted on timings. The exit status is 1 when
a run fails or the findings differ.

    uv run --frozen python bench/validate.py [--files 5000] [--repeat 3]
        [--baseline-src DIR] [--workdir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import psutil

ROOT = Path(__file__).resolve().parent.parent
STORE = ROOT.parent / "shared" / "data" / "phenopacket-store"
MIN_FILES = 5_000
HEADLINE = re.compile(r"^(\d+) phenopackets: (\d+) errors, (\d+) warnings$", re.M)


def sources(store: Path) -> list[tuple[str, str, Path]]:
    """``(cohort, release, file)`` of every curated Phenopacket, in a stable order."""
    found = []
    for cohort in sorted(p for p in store.iterdir() if p.is_dir()):
        for release, folder in (
            ("old", cohort / "phenopackets"),
            ("cur", cohort / "current" / "phenopackets"),
        ):
            found += [(cohort.name, release, f) for f in sorted(folder.glob("*.json"))]
    return found


def build_corpus(store: Path, dest: Path, wanted: int) -> int:
    """``wanted`` Phenopacket files under ``dest``, copies with distinct ids."""
    found = sources(store)
    if not found:
        raise SystemExit(f"no phenopackets under {store}")
    for n in range(wanted):
        copy, index = divmod(n, len(found))
        cohort, release, path = found[index]
        doc = orjson.loads(path.read_bytes())
        tag = f"-c{copy}" + ("-cur" if release == "cur" else "")
        doc["id"] = f"{doc['id']}{tag}"
        if isinstance(doc.get("subject"), dict) and "id" in doc["subject"]:
            doc["subject"]["id"] = f"{doc['subject']['id']}{tag}"
        target = dest / cohort / f"{release}-c{copy}" / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    return len(found)


def tree_rss(process: psutil.Process) -> int:
    """Bytes resident in a process and all its descendants now."""
    total = 0
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for member in members:
        try:
            total += member.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


@dataclass
class Run:
    seconds: float
    peak_mb: float
    headline: str


def run_once(corpus: Path, workspace: Path, src: Path | None, log: Path) -> Run:
    """One whole ``harmonize validate`` process: wall clock, peak tree RSS, headline."""
    env = {**os.environ, "COLUMNS": "200"}
    if src is not None:
        env["PYTHONPATH"] = str(src)
    command = [sys.executable, "-m", "harmonize.cli", "validate", str(corpus), "-w", str(workspace)]
    peak = 0
    with log.open("wb") as out:
        started = time.perf_counter()
        # not run from the checkout: ``python -m`` puts the working directory first on
        # sys.path, where it would shadow PYTHONPATH's baseline
        proc = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=log.parent
        )
        watched = psutil.Process(proc.pid)
        while proc.poll() is None:
            peak = max(peak, tree_rss(watched))
            time.sleep(0.01)
        seconds = time.perf_counter() - started
    text = log.read_text(errors="replace")
    if proc.returncode not in (0, 1):
        raise SystemExit(f"validate failed (exit {proc.returncode}); see {log}:\n{text[-2000:]}")
    found = HEADLINE.findall(text)
    if not found:
        raise SystemExit(f"no headline in the output of validate; see {log}:\n{text[-2000:]}")
    return Run(seconds, peak / 2**20, "{} phenopackets: {} errors, {} warnings".format(*found[-1]))


@dataclass
class Series:
    name: str
    runs: list[Run] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def peak_mb(self) -> float:
        return statistics.median(r.peak_mb for r in self.runs)

    @property
    def headlines(self) -> set[str]:
        return {r.headline for r in self.runs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=MIN_FILES)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--store", type=Path, default=STORE)
    parser.add_argument(
        "--baseline-src", type=Path, help="a checkout to compare with (run with PYTHONPATH)"
    )
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="harmonize-validate-", dir=args.workdir))
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}; working in {workdir}",
        flush=True,
    )
    try:
        corpus = workdir / "corpus"
        started = time.perf_counter()
        distinct = build_corpus(args.store, corpus, args.files)
        size = sum(f.stat().st_size for f in corpus.rglob("*.json"))
        print(
            f"corpus: {args.files:,} files ({size / 1e6:.1f} MB) from {distinct} curated "
            f"phenopackets in {args.store}, built in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        series = [("ours", ROOT)]
        if args.baseline_src is not None:
            series.append(("baseline", args.baseline_src.resolve()))
        results = {name: Series(name) for name, _ in series}
        # one untimed first run compiles the ontology indexes; every workspace gets a copy
        # (the index format is the same on both sides unless harmonize/ontology changed)
        first = run_once(corpus, workdir / "ws-ours", ROOT, workdir / "ours-first.log")
        print(f"first run (compiles the ontology indexes) {first.seconds:.1f} s", flush=True)
        for name, _ in series[1:]:
            shutil.copytree(workdir / "ws-ours" / "cache", workdir / f"ws-{name}" / "cache")
        for k in range(args.repeat):
            for name, src in series:
                run = run_once(corpus, workdir / f"ws-{name}", src, workdir / f"{name}-{k}.log")
                results[name].runs.append(run)
                print(
                    f"{name} run {k + 1}: {run.seconds:.2f} s, {args.files / run.seconds:,.0f} "
                    f"files/s, peak RSS {run.peak_mb:,.0f} MB; {run.headline}",
                    flush=True,
                )
        print()
        for s in results.values():
            print(
                f"{s.name:<9} median of {len(s.runs)}: {s.seconds:.2f} s, "
                f"{args.files / s.seconds:,.0f} files/s, peak RSS {s.peak_mb:,.0f} MB "
                "(process tree)"
            )
        ours = results["ours"]
        same = len(ours.headlines) == 1
        if "baseline" in results:
            base = results["baseline"]
            same = same and base.headlines == ours.headlines
            print(
                f"ratio     baseline / ours, same run: {base.seconds / ours.seconds:.2f}x faster; "
                f"peak RSS {ours.peak_mb / base.peak_mb:.2f}x the baseline's"
            )
        enough = args.files >= MIN_FILES
        print(
            f"targets   a real corpus of >= {MIN_FILES:,} files: "
            f"{'met' if enough else 'MISSED'} ({args.files:,}); the same findings in every "
            f"run{' and as the baseline' if 'baseline' in results else ''}: "
            f"{'met' if same else 'MISSED'} ({' | '.join(sorted({h for s in results.values() for h in s.headlines}))}); "
            "files/s and peak RSS: printed (the issue sets no rate target)"
        )
        return 0 if same and enough else 1
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
