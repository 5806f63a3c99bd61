"""Load on the Beacon: count queries from concurrent clients, against a hand-written bound.

1. PostgreSQL: ``--url`` or a throwaway server started with ``infra/postgres.sh``.
2. Data: ``--rows`` synthetic individuals (``bench/synth.py``, ~10 HPO features each)
   ingested with ``harmonize.pipeline.ingest`` into a temp workspace on that registry.
3. The service as ``harmonize serve --workers 2`` runs it (uvicorn, ``--factory``), the
   Beacon with its budget off.
4. A client process with ``--clients`` keep-alive connections runs, after a warm-up (rounds
   of the first query until a round answers every request within a second, so that each
   worker has built its snapshot):
   ``one``: a count with one HPO parent-term filter (descendants included); ``three``: the
   term, female sex and an age range; ``terms``: ``/filtering_terms``.
5. The bound, same run: the one-filter count as one hand-written DuckDB statement
   (term→ancestor closure join) in process, on the same pinned tables.

Prints p50/p99 per kind, errors, the ratio of ``one``'s p50 to the bound's, and the peak
RSS of each worker; the targets are p50 ≤ 100 ms, p99 ≤ 300 ms, zero errors, ≤ 1.5x the
bound. Nothing is asserted; the exit status is 1 when a target is missed.

    uv run --frozen python bench/discovery.py [--rows 1000000] [--requests 2000]
        [--clients 8] [--workers 2] [--url URL] [--term HP:0000707] [--keep]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from drs_load import percentile, run_phases, server_processes, summarize  # noqa: E402
from synth import write_submission  # noqa: E402

from tests.support.postgres import PostgresServer  # noqa: E402
from tests.support.server import serve_drs  # noqa: E402

API = "/ga4gh/beacon/v2"
P50_MS, P99_MS, BOUND_RATIO = 100.0, 300.0, 1.5


def bound_ms(settings: object, url: str, term: str, samples: int) -> tuple[float, float, int]:
    """p50 (ms) of the one-filter count as one hand-written statement on the published
    tables, p50 of the Beacon's own answer to it in process (no HTTP), and the count."""
    from harmonize.discovery.beacon.config import BeaconSettings
    from harmonize.discovery.beacon.engine import Beacon
    from harmonize.discovery.beacon.request import from_get
    from harmonize.drs.registry import Registry

    registry = Registry(url)
    beacon = Beacon(settings, registry, BeaconSettings(), visa_value=str)  # type: ignore[arg-type]
    cursor = beacon.snapshot().cursor()
    sql = (
        "SELECT count(*) FROM individuals i WHERE EXISTS (SELECT 1 FROM phenotypic_features f "
        "JOIN hz_closure c ON f.term_id = c.term_id WHERE c.ancestor_id = ? "
        "AND f.submission_id = i.submission_id AND f.phenopacket_id = i.phenopacket_id "
        "AND f.excluded IS NOT TRUE)"
    )
    times, answers, count = [], [], 0
    for _ in range(samples):
        start = time.perf_counter()
        count = cursor.execute(sql, [term]).fetchone()[0]
        times.append((time.perf_counter() - start) * 1000)
    for _ in range(samples):
        query = from_get("individuals", {"filters": term, "requestedGranularity": "count"})
        start = time.perf_counter()
        answered = beacon.answer(query)["responseSummary"]["numTotalResults"]
        answers.append((time.perf_counter() - start) * 1000)
    if answered != count:
        print(f"MISMATCH: the Beacon counts {answered}, the hand-written statement {count}")
    registry.dispose()
    return percentile(times, 50), percentile(answers, 50), int(count)


def warm_up(port: int, paths: list[str], clients: int, servers: dict[str, Any]) -> None:
    """Rounds of the queries until one round answers every request within a second: each
    worker builds its snapshot's tables and bitmaps (and its /filtering_terms) on first
    use, which must not fall in a timed phase (a slow request here may time out; that is
    not counted)."""
    started = time.perf_counter()
    rounds = 0
    while rounds < 40:
        rounds += 1
        result, _ = run_phases(
            port, [("warmup", [("beacon", p, 0) for p in paths] * 4 * clients)], clients, servers
        )["warmup"]
        latencies, errors, _ = result
        if latencies and not errors and max(latencies) < 1.0:
            break
    print(f"warm-up    {rounds} rounds, {time.perf_counter() - started:.0f} s (snapshots built)")


def peak_rss_mb(pids: list[int]) -> list[float]:
    peaks = []
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        line = next(x for x in status.splitlines() if x.startswith("VmHWM:"))
        peaks.append(int(line.split()[1]) / 1024)
    return peaks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=2000, help="per query kind")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--url", help="PostgreSQL URL; default: start one with infra/postgres.sh")
    parser.add_argument("--term", default="HP:0000707", help="the parent term queried")
    parser.add_argument("--keep", action="store_true", help="keep the temp directory")
    parser.add_argument(
        "--cache",
        type=Path,
        help="keep the published data (workspace and PostgreSQL cluster) in this directory "
        "(under /tmp: the postgres user must reach it) and reuse it when --rows matches",
    )
    args = parser.parse_args()

    from harmonize.pipeline import ingest
    from harmonize.settings import Settings

    workdir = Path(tempfile.mkdtemp(prefix="harmonize-discovery-"))
    server: PostgresServer | None = None
    try:
        data = args.cache or workdir
        marker = data / "published.json"
        cached = json.loads(marker.read_text()) if marker.exists() else None
        if cached is not None and cached["rows"] != args.rows:
            raise SystemExit(f"{data} holds {cached['rows']} rows, not {args.rows}; use another")
        url = args.url
        if url is None:
            if args.cache is not None:
                data.mkdir(parents=True, exist_ok=True)
                data.chmod(0o777)
                server = PostgresServer.start(data / "pg")
                url = server.url
            else:
                server = PostgresServer.start_temporary()
                url = server.create_database()
        elif cached is not None and cached["url"] != url:
            raise SystemExit(f"{data} was published on {cached['url']}, not {url}")
        settings = Settings(
            workspace=data / "workspace",
            registry_url=url,
            run_great_expectations=False,
            data_docs=False,
        )
        if cached is None:
            started = time.perf_counter()
            write_submission(workdir / "synth", args.rows)
            generated = time.perf_counter() - started
            result = ingest(workdir / "synth", settings)
            if result.status != "published":
                raise SystemExit(f"the synthetic submission was not published: {result.message}")
            cached = {
                "rows": args.rows,
                "url": url,
                "generate_s": round(generated, 1),
                "ingest_s": round(time.perf_counter() - started - generated, 1),
            }
            if args.cache is not None:
                marker.write_text(json.dumps(cached))
            print(f"data: {args.rows} individuals", end=" ")
        else:
            print(f"data: {args.rows} individuals from {data}, first", end=" ")
        print(f"generated in {cached['generate_s']:.0f} s, published in {cached['ingest_s']:.0f} s")
        one = f"{API}/individuals?" + urlencode(
            {"filters": args.term, "requestedGranularity": "count"}
        )
        three = f"{API}/individuals?" + urlencode(
            {
                "filters": f"{args.term},NCIT:C16576,age:>=P5Y,age:<P40Y",
                "requestedGranularity": "count",
            }
        )
        phases = [
            ("one", [("beacon", one, 0)] * args.requests),
            ("three", [("beacon", three, 0)] * args.requests),
            ("terms", [("beacon", f"{API}/filtering_terms", 0)] * max(args.requests // 10, 10)),
        ]
        config = workdir / "beacon.yaml"
        config.write_text("budget_queries: 0\nrecheck_seconds: 5\n")
        env = {"HARMONIZE_BEACON_FILE": str(config)}
        with serve_drs(
            settings.workspace, url, workers=args.workers, env=env, log=workdir / "uvicorn.log"
        ) as (base, supervisor):
            port = int(base.rsplit(":", 1)[1])
            servers = server_processes(supervisor.pid, server)
            warm_up(port, [one, f"{API}/filtering_terms"], args.clients, servers)
            results = run_phases(port, phases, args.clients, servers)
            peaks = peak_rss_mb(servers["uvicorn workers"]())
        bound, inproc, count = bound_ms(settings, url, args.term, 20)
        print(f"\n{args.term}: {count} individuals; {args.clients} clients, {args.workers} workers")
        figures = {k: summarize(k, len(j), *results[k]) for k, j in phases}
        ratio = figures["one"]["p50"] / bound
        print(f"bound      one DuckDB statement in process p50 {bound:.2f} ms; ratio {ratio:.2f}x")
        print(f"in process Beacon.answer() of 'one', no HTTP, one at a time p50 {inproc:.2f} ms")
        print("peak RSS per worker: " + ", ".join(f"{mb:.0f} MB" for mb in peaks))
        errors = int(sum(f["errors"] for f in figures.values()))
        one = figures["one"]
        targets = [
            (f"one: p50 <= {P50_MS:.0f} ms", f"{one['p50']:.1f} ms", one["p50"] <= P50_MS),
            (f"one: p99 <= {P99_MS:.0f} ms", f"{one['p99']:.1f} ms", one["p99"] <= P99_MS),
            ("zero errors", str(errors), errors == 0),
            (f"one: p50 <= {BOUND_RATIO}x the bound", f"{ratio:.2f}x", ratio <= BOUND_RATIO),
        ]
        for name, value, ok in targets:
            print(f"target     {name:<28} {value:>10}  {'met' if ok else 'MISSED'}")
        met = all(ok for _, _, ok in targets)
        print(f"targets    {'all met' if met else 'MISSED'}")
        return 0 if met else 1
    finally:
        if server is not None:
            server.stop()
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
