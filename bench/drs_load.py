"""Load on the DRS service: object lookups and downloads from concurrent clients.

1. PostgreSQL: ``--url`` or a throwaway server started with ``infra/postgres.sh`` (stopped
   at the end).
2. Data: the sample submissions of ``tests/data/submissions`` ingested with
   ``harmonize.pipeline.ingest`` into a temp workspace whose registry is that database,
   plus synthetic published objects (real files, registered as one bundle) until there
   are ``--objects`` DRS objects.
3. The service as ``harmonize serve --workers 2`` runs it (uvicorn, ``--factory``).
4. The client runs in its own process: ``--clients`` keep-alive connections, one request
   in flight on each, fire ``--lookups`` ``GET /objects/{id}`` (random live ids) and then
   ``--downloads`` ``GET /objects/{id}/download`` (each body's length checked), after an
   untimed warm-up. A request fails when its status is not 200 or its body is wrong.
   ``--client asyncio`` (default) drives the connections from one uvloop event loop with
   httptools; ``--client threads``, one thread and ``http.client`` connection each, costs
   several times the client CPU on the cores the server shares.
5. Baseline, same run: the same lookups as ``Registry.get`` calls in process (no HTTP).

Prints p50/p99/max latency, requests/s and errors per kind, CPU per request and each
party's share of the machine (uvicorn workers, PostgreSQL, and the client, which competes
for the same cores), the ratio of the lookup p50 to the baseline p50, and whether the
targets of issue #14 are met (zero errors; lookup p99 < 50 ms; at least 2,000 lookups/s).
Nothing is asserted; the exit status is 1 when a target is missed.

    uv run --frozen python bench/drs_load.py [--url URL] [--lookups 10000]
        [--downloads 1000] [--clients 8] [--objects 10000] [--workers 2] [--keep]
        [--client asyncio|threads]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.drs_client import CLIENTS, client_main  # noqa: E402
from harmonize.drs.ids import bundle_id, drs_id  # noqa: E402
from harmonize.drs.registry import BundleHeader, ObjectSpec, Registry  # noqa: E402
from tests.support.postgres import PostgresServer  # noqa: E402
from tests.support.server import serve_drs  # noqa: E402

OBJECTS = "/ga4gh/drs/v1/objects/"
LOOKUP_P99_TARGET_MS = 50.0
LOOKUP_RPS_TARGET = 2_000.0  # issue #14


def ingest_samples(workspace: Path, url: str) -> int:
    """The bundled sample submissions, published into ``workspace``; DRS objects registered."""
    from harmonize.pipeline import ingest
    from harmonize.settings import Settings

    settings = Settings(
        workspace=workspace, registry_url=url, on_conflict="keep-observed", data_docs=False
    )
    registered = 0
    for source in sorted((ROOT / "tests" / "data" / "submissions").iterdir()):
        if not (source / "manifest.yaml").exists():
            continue
        result = ingest(source, settings)
        print(f"  ingested {source.name}: {result.status}, {result.objects} objects", flush=True)
        if result.status != "published":
            raise SystemExit(f"{source.name} was not published: {result.message}")
        registered += result.objects
    return registered


def add_synthetic(workspace: Path, registry: Registry, wanted: int, files: int = 100) -> int:
    """Published objects until the registry holds ``wanted``: ``files`` real files, each
    registered under many names (distinct ids), in one bundle. Returns the number added."""
    missing = wanted - registry.count()
    if missing <= 0:
        return 0
    folder = Path("published/dataset=bench/submission=synthetic")
    blobs = []
    for index in range(files):
        data = json.dumps({"id": f"synthetic-{index}", "pad": "x" * (200 + index * 37)}).encode()
        target = workspace / folder / f"blob-{index}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        blobs.append((str(folder / target.name), len(data), hashlib.sha256(data).hexdigest()))
    created = datetime.now(UTC)

    def specs() -> Any:
        for index in range(missing):
            path, size, sha = blobs[index % files]
            name = f"P{index:06d}.json"
            yield ObjectSpec(
                id=drs_id("synthetic", name, sha),
                name=name,
                path=path,
                size=size,
                sha256=sha,
                mime_type="application/json",
                submission_id="synthetic",
                dataset="bench",
                access="public",
                role="published",
                created_time=created,
            )

    header = BundleHeader(
        id=bundle_id("synthetic", hashlib.sha256(b"bench").hexdigest()),
        name="synthetic",
        submission_id="synthetic",
        dataset="bench",
        access="public",
        created_time=created,
    )
    return registry.register_stream(specs(), header)


def public_files(registry: Registry) -> list[tuple[str, int]]:
    """``(id, size)`` of every live public file (not bundles): what anyone may fetch."""
    return [
        (row.id, row.size)
        for row in registry.iter_objects()
        if not row.deleted and not row.is_bundle and row.access == "public"
    ]


Result = tuple[list[float], list[str], float]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes (the ones still running)."""
    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def run_phases(
    port: int,
    phases: list[tuple[str, list[tuple[str, str, int]]]],
    clients: int,
    servers: dict[str, Callable[[], list[int]]],
    client_kind: str = "asyncio",
) -> dict[str, tuple[Result, dict[str, float]]]:
    """Each phase from the client process; with the CPU seconds ``servers`` spent in it."""
    context = multiprocessing.get_context("spawn")
    to_client, inbox = context.Pipe()
    outbox, from_client = context.Pipe()
    process = context.Process(target=client_main, args=(port, clients, inbox, outbox, client_kind))
    process.start()
    results = {}
    try:
        assert process.pid is not None
        client = process.pid
        for name, jobs in phases:
            pids = {kind: find() for kind, find in servers.items()}
            before = {kind: cpu_seconds(pids[kind]) for kind in servers}
            client_before = cpu_seconds([client])
            to_client.send(jobs)
            result: Result = from_client.recv()
            # PostgreSQL backends that connected during the phase count from zero
            spent = {kind: cpu_seconds(find()) - before[kind] for kind, find in servers.items()}
            spent["client"] = cpu_seconds([client]) - client_before
            results[name] = (result, spent)
        to_client.send(None)
    finally:
        process.join(timeout=60)
        if process.is_alive():
            process.kill()
    return results


def server_processes(
    supervisor: int, postgres: PostgresServer | None
) -> dict[str, Callable[[], list[int]]]:
    """pids of the uvicorn workers and, for a server we started, of PostgreSQL."""
    deadline = time.monotonic() + 60
    workers: list[int] = []
    while time.monotonic() < deadline:
        workers = [
            child.pid
            for child in psutil.Process(supervisor).children()
            if "resource_tracker" not in " ".join(child.cmdline())
        ]
        if workers:
            break
        time.sleep(0.2)
    found: dict[str, Callable[[], list[int]]] = {"uvicorn workers": lambda: workers}
    if postgres is not None:
        pid_file = postgres.directory / "data" / "postmaster.pid"
        postmaster = psutil.Process(int(pid_file.read_text().split()[0]))
        found["PostgreSQL"] = lambda: [postmaster.pid, *(p.pid for p in postmaster.children())]
    return found


# -- report -------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def summarize(
    kind: str, requests: int, result: Result, spent: dict[str, float]
) -> dict[str, float]:
    latencies, errors, wall = result
    ms = [value * 1000 for value in latencies]
    figures = {
        "requests": float(requests),
        "errors": float(len(errors)),
        "p50": percentile(ms, 50) if ms else float("nan"),
        "p99": percentile(ms, 99) if ms else float("nan"),
        "max": max(ms) if ms else float("nan"),
        "mean": statistics.fmean(ms) if ms else float("nan"),
        "rps": len(latencies) / wall if wall else 0.0,
    }
    print(
        f"{kind:<10} {int(figures['requests']):>7} req  {int(figures['errors']):>4} errors  "
        f"p50 {figures['p50']:7.2f} ms  p99 {figures['p99']:7.2f} ms  "
        f"max {figures['max']:7.2f} ms  {figures['rps']:8.1f} req/s"
    )
    cpu = ", ".join(f"{who} {seconds / requests * 1000:.2f}" for who, seconds in spent.items())
    print(f"{'':<10} CPU ms per request: {cpu}")
    machine = wall * (os.cpu_count() or 1)  # CPU seconds the machine had in the phase
    share = ", ".join(f"{who} {seconds / machine:.0%}" for who, seconds in spent.items())
    print(f"{'':<10} share of the machine's {os.cpu_count()} CPUs: {share}")
    for error in errors[:5]:
        print(f"    {error}")
    return figures


def baseline(registry: Registry, ids: list[str], samples: int) -> float:
    """p50 (ms) of ``Registry.get`` in process: the database part of a lookup."""
    times = []
    for object_id in random.Random(1).choices(ids, k=samples):
        start = time.perf_counter()
        registry.get(object_id)
        times.append((time.perf_counter() - start) * 1000)
    return percentile(times, 50)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="PostgreSQL URL; default: start one with infra/postgres.sh")
    parser.add_argument("--lookups", type=int, default=10_000)
    parser.add_argument("--downloads", type=int, default=1_000)
    parser.add_argument("--clients", type=int, default=8, help="concurrent client connections")
    parser.add_argument("--objects", type=int, default=10_000, help="DRS objects at least")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers")
    parser.add_argument("--keep", action="store_true", help="keep the temp directory")
    parser.add_argument(
        "--client",
        choices=sorted(CLIENTS),
        default="asyncio",
        help="the load generator: asyncio (one uvloop loop, httptools) or threads "
        "(one http.client connection per thread)",
    )
    parser.add_argument(
        "--app", default="harmonize.drs.serve:app_from_env", help="uvicorn factory to serve"
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="harmonize-drs-load-"))
    server: PostgresServer | None = None
    try:
        url = args.url
        if url is None:
            server = PostgresServer.start_temporary()
            url = server.create_database()
            print(f"PostgreSQL: {server.url.rsplit('/', 1)[0]} (infra/postgres.sh)", flush=True)
        workspace = workdir / "workspace"
        started = time.perf_counter()
        ingested = ingest_samples(workspace, url)
        registry = Registry(url)
        added = add_synthetic(workspace, registry, args.objects)
        files = public_files(registry)
        print(
            f"registry: {registry.count()} DRS objects ({ingested} from the sample "
            f"submissions, {added} synthetic), {len(files)} public files; "
            f"loaded in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        chooser = random.Random(42)
        lookups = [("lookup", OBJECTS + i, s) for i, s in chooser.choices(files, k=args.lookups)]
        downloads = [
            ("download", f"{OBJECTS}{i}/download", s)
            for i, s in chooser.choices(files, k=args.downloads)
        ]
        warmup = [("lookup", OBJECTS + i, s) for i, s in chooser.choices(files, k=500)]
        log = workdir / "uvicorn.log"
        with serve_drs(workspace, url, workers=args.workers, log=log, app=args.app) as (
            base,
            supervisor,
        ):
            port = int(base.rsplit(":", 1)[1])
            servers = server_processes(supervisor.pid, server)
            print(
                f"server: uvicorn --workers {args.workers} at {base}; client: a separate "
                f"process, {args.clients} concurrent connections ({args.client})",
                flush=True,
            )
            phases = [("warmup", warmup), ("lookup", lookups), ("download", downloads)]
            results = run_phases(port, phases, args.clients, servers, args.client)
        base_p50 = baseline(registry, [i for i, _ in files], 1000)
        registry.dispose()
        print()
        sizes = {"lookup": len(lookups), "download": len(downloads)}
        figures = {kind: summarize(kind, sizes[kind], *results[kind]) for kind in sizes}
        print(
            f"baseline   Registry.get in process p50 {base_p50:.2f} ms; "
            f"HTTP lookup p50 / baseline p50 = {figures['lookup']['p50'] / base_p50:.1f}x"
        )
        errors = int(figures["lookup"]["errors"] + figures["download"]["errors"])
        p99_ok = figures["lookup"]["p99"] < LOOKUP_P99_TARGET_MS
        rps_ok = figures["lookup"]["rps"] >= LOOKUP_RPS_TARGET
        print(
            f"targets    zero errors: {'met' if errors == 0 else f'MISSED ({errors})'}; "
            f"lookup p99 < {LOOKUP_P99_TARGET_MS:.0f} ms: "
            f"{'met' if p99_ok else 'MISSED'} ({figures['lookup']['p99']:.2f} ms); "
            f"lookups >= {LOOKUP_RPS_TARGET:,.0f}/s: {'met' if rps_ok else 'MISSED'} "
            f"({figures['lookup']['rps']:,.0f}/s)"
        )
        return 0 if errors == 0 and p99_ok and rps_ok else 1
    finally:
        if server is not None:
            server.stop()
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
