"""Dashboard latency with 10k submissions in the store: list and trend pages, p50/p99.

Fills a fresh SQLite state store with 10,000 submission versions spread over 12 months
(20 submitters, 8 datasets, realistic statuses, table counts and finding counts per
category), then times the submission list and the trend page through a real uvicorn
server (in a thread, on a free port) with an HTTP client, 200 requests each, cycling
through filters and pages. The baseline is the DRS ``service-info`` endpoint served by
the same server in the same run.

    uv run --frozen python bench/dashboard.py [--submissions 10000] [--requests 200]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from harmonize.dashboard import AccessToken, DashboardSettings  # noqa: E402
from harmonize.dashboard.local import serve_in_thread  # noqa: E402
from harmonize.dashboard.summaries import categories, month, summaries  # noqa: E402
from harmonize.drs.config import DrsSettings, default_registry_url  # noqa: E402
from harmonize.state.store import StateStore, state_events, submissions  # noqa: E402
from harmonize.web import WebSettings, create_app  # noqa: E402

TOKEN = "bench-curator-token-0001"
BUDGET_MS = 300.0
CATEGORIES = (
    ("missing-required-field", "error"),
    ("unmapped-term", "error"),
    ("needs-review", "error"),
    ("excluded-ancestor", "error"),
    ("inexact-term-match", "warning"),
    ("malformed-age", "warning"),
    ("duplicate-term", "warning"),
    ("curated-unmappable", "info"),
)


def fill(url: str, n: int, seed: int = 7) -> None:
    """``n`` submissions over the last 12 months, with history, summaries and finding counts."""
    rng = random.Random(seed)
    store = StateStore(url)
    datasets = [f"dataset-{i}" for i in range(8)]
    submitters = [f"submitter-{i:02d}" for i in range(20)]
    home = {s: rng.sample(datasets, 2) for s in submitters}
    now = datetime.now(UTC)
    subs: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    sums: list[dict[str, Any]] = []
    cats: list[dict[str, Any]] = []
    for i in range(n):
        submitter = rng.choice(submitters)
        dataset = rng.choice(home[submitter])
        received = now - timedelta(seconds=rng.uniform(0, 365 * 86400))
        updated = received + timedelta(seconds=rng.uniform(5, 600))
        status = rng.choices(["published", "rejected", "failed", "processing"], [80, 17, 2, 1])[0]
        sid, sha = f"sub-{i:05d}", f"{rng.getrandbits(256):064x}"
        individuals = rng.randint(1, 200)
        features = individuals * rng.randint(3, 15)
        subs.append(
            {
                "id": sid,
                "manifest_sha256": sha,
                "status": status,
                "submitter": submitter,
                "dataset": dataset,
                "profile": rng.choice(["hpo-case-template", "tabular", "phenopacket"]),
                "access": rng.choice(["public", "controlled"]),
                "received_at": received,
                "updated_at": updated,
                "report_path": None,
                "bundle_id": None,
                "stats": {"individuals": individuals, "phenotypic_features": features},
            }
        )
        for k, st in enumerate(["received", "processing", status]):
            events.append(
                {
                    "submission_id": sid,
                    "manifest_sha256": sha,
                    "status": st,
                    "at": received + timedelta(seconds=k),
                    "detail": None,
                }
            )
        counts = {"error": 0, "warning": 0, "info": 0}
        copied = {
            "received_at": received,
            "month": month(received),
            "dataset": dataset,
            "submitter": submitter,
        }
        for category, level in rng.sample(CATEGORIES, rng.randint(0, 4)):
            c = rng.randint(1, 30) if (level != "error" or status == "rejected") else 0
            if c:
                counts[level] += c
                cats.append(
                    {
                        "id": sid,
                        "manifest_sha256": sha,
                        "category": category,
                        "level": level,
                        "count": c,
                        **copied,
                    }
                )
        terms = rng.randint(5, 300)
        sums.append(
            {
                "id": sid,
                "manifest_sha256": sha,
                "source_updated_at": updated,
                "status": status,
                **copied,
                "individuals": individuals,
                "features": features,
                "errors": counts["error"],
                "warnings": counts["warning"],
                "infos": counts["info"],
                "terms": terms,
                "weak_terms": rng.randint(0, terms // 5),
            }
        )
    with store.engine.begin() as conn:
        conn.execute(insert(submissions), subs)
        conn.execute(insert(state_events), events)
        conn.execute(insert(summaries), sums)
        if cats:
            conn.execute(insert(categories), cats)
    store.engine.dispose()


def timed(client: httpx.Client, paths: list[str], requests: int) -> list[float]:
    out = []
    for i in range(requests):
        path = paths[i % len(paths)]
        start = time.perf_counter()
        response = client.get(path)
        out.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"GET {path}: {response.status_code} {response.text[:300]}")
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hz-dash-bench-") as tmp:
        ws = Path(tmp)
        url = default_registry_url(ws)
        start = time.perf_counter()
        fill(url, args.submissions)
        print(f"filled {args.submissions:,} submissions in {time.perf_counter() - start:.1f} s")
        settings = WebSettings(
            drs=DrsSettings(workspace=ws, registry_url=url),
            dashboard=DashboardSettings(
                secret_key="bench-" + "k" * 40,
                tokens=[AccessToken(token=TOKEN, role="curator", name="bench")],
            ),
        )
        app = create_app(settings)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        lists = [
            "/dashboard/submissions",
            "/dashboard/submissions?dataset=dataset-3",
            "/dashboard/submissions?submitter=submitter-07",
            "/dashboard/submissions?status=rejected",
            "/dashboard/submissions?offset=5000",
            "/dashboard/submissions?dataset=dataset-1&since=2026-01-01",
        ]
        trend_pages = [
            "/dashboard/trends",
            "/dashboard/trends?by=submitter",
            "/dashboard/trends?dataset=dataset-2",
            "/dashboard/trends?submitter=submitter-11&by=submitter",
        ]
        with serve_in_thread(app) as base, httpx.Client(base_url=base, headers=headers) as c:
            timed(c, lists + trend_pages, 20)  # warm up (and the one-time summary sync)
            baseline = timed(c, ["/ga4gh/drs/v1/service-info"], args.requests)
            results = {
                "list": timed(c, lists, args.requests),
                "trends": timed(c, trend_pages, args.requests),
            }
    base_p50 = statistics.median(baseline)
    print(
        f"server: uvicorn in-process thread, SQLite; {args.requests} sequential requests per page"
    )
    print(f"baseline  service-info  p50 {base_p50:7.1f} ms  p99 {pct(baseline, 0.99):7.1f} ms")
    for name, values in results.items():
        p50, p99 = statistics.median(values), pct(values, 0.99)
        verdict = "under" if p99 < BUDGET_MS else "OVER"
        print(
            f"{name:<8}  dashboard     p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  "
            f"({p50 / base_p50:.1f}x baseline p50; p99 {verdict} {BUDGET_MS:.0f} ms)"
        )


if __name__ == "__main__":
    main()
