"""A submission's page with many published versions: the cost of the per-version diffs.

Publishes one tabular submission (``--individuals`` rows) ``--versions`` times, each version
changing a few individuals, dropping one and adding one, then times its dashboard page
through a real uvicorn server: the first load of each page of versions (ten diffs computed
from the Delta tables), and loads served from the diff cache. The baselines, in the same
run: a submission page without published versions, and DRS ``service-info``.

    uv run --frozen python bench/dashboard_versions.py [--versions 30] [--individuals 500]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import yaml  # noqa: E402

from harmonize.dashboard import AccessToken, DashboardSettings  # noqa: E402
from harmonize.dashboard.local import serve_in_thread  # noqa: E402
from harmonize.drs.config import DrsSettings  # noqa: E402
from harmonize.pipeline import ingest  # noqa: E402
from harmonize.settings import Settings  # noqa: E402
from harmonize.state.store import StateStore  # noqa: E402
from harmonize.web import WebSettings, create_app  # noqa: E402

TOKEN = "bench-curator-token-0001"
SID = "bench-versions"
TERMS = ["Seizure", "Macrocephaly", "Hypotonia", "Ataxia", "Microcephaly", "Scoliosis"]
MAPPING = {
    "id_column": "id",
    "sex": {"column": "sex", "values": {"f": "FEMALE", "m": "MALE"}},
    "phenotypes": [{"column": "symptoms", "separator": ";"}],
}


def write_version(root: Path, people: dict[str, tuple[str, list[str]]]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    lines = ["id,sex,symptoms"] + [f"{p},{s},{';'.join(t)}" for p, (s, t) in people.items()]
    data = ("\n".join(lines) + "\n").encode()
    (root / "cases.csv").write_bytes(data)
    (root / "mapping.yaml").write_text(yaml.safe_dump(MAPPING), encoding="utf-8")
    manifest = {
        "submission_id": SID,
        "submitter": "Bench clinic",
        "dataset": "bench",
        "profile": "tabular",
        "access": "public",
        "mapping": "mapping.yaml",
        "files": [{"path": "cases.csv", "sha256": hashlib.sha256(data).hexdigest()}],
    }
    (root / "manifest.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
    return root


def publish(settings: Settings, tmp: Path, versions: int, individuals: int) -> float:
    """Seconds per published version."""
    rng = random.Random(3)
    people = {
        f"p{i:05d}": (rng.choice("fm"), rng.sample(TERMS, rng.randint(1, 3)))
        for i in range(individuals)
    }
    start = time.perf_counter()
    for n in range(1, versions + 1):
        if n > 1:  # a few corrections, one individual gone, one new
            for pid in rng.sample(sorted(people), 5):
                people[pid] = (people[pid][0], rng.sample(TERMS, rng.randint(1, 3)))
            people.pop(rng.choice(sorted(people)))
            people[f"n{n:05d}"] = (rng.choice("fm"), rng.sample(TERMS, 2))
        result = ingest(write_version(tmp / f"v{n}", people), settings)
        if result.status != "published":
            raise SystemExit(f"version {n}: {result.status} {result.message}")
    return (time.perf_counter() - start) / versions


def timed(client: httpx.Client, path: str, times: int = 1) -> list[float]:
    out = []
    for _ in range(times):
        start = time.perf_counter()
        response = client.get(path)
        out.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"GET {path}: {response.status_code} {response.text[:300]}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=30)
    parser.add_argument("--individuals", type=int, default=500)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hz-versions-bench-") as tmp:
        ws = Path(tmp) / "ws"
        settings = Settings(workspace=ws, run_great_expectations=False, data_docs=False)
        per_version = publish(settings, Path(tmp), args.versions, args.individuals)
        print(
            f"published {args.versions} versions of {args.individuals} individuals, "
            f"{per_version:.1f} s each"
        )
        store = StateStore(settings.registry)
        store.set_status("never-published", "0" * 64, "rejected", submitter="x", dataset="bench")
        app = create_app(
            WebSettings(
                drs=DrsSettings(workspace=ws, registry_url=settings.registry),
                dashboard=DashboardSettings(
                    secret_key="bench-" + "k" * 40,
                    tokens=[AccessToken(token=TOKEN, role="curator", name="bench")],
                    pipeline=settings,
                ),
            )
        )
        headers = {"Authorization": f"Bearer {TOKEN}"}
        page = f"/dashboard/submissions/{SID}"
        pages = [f"{page}?versions_offset={o}" for o in range(0, args.versions, 10)]
        with serve_in_thread(app) as base, httpx.Client(base_url=base, headers=headers) as c:
            timed(c, "/dashboard/submissions/never-published", 5)  # warm up
            baseline = timed(c, "/ga4gh/drs/v1/service-info", args.requests)
            plain = timed(c, "/dashboard/submissions/never-published", args.requests)
            cold = [timed(c, p)[0] for p in pages]  # each page's first load: ten diffs
            warm = timed(c, page, args.requests)
        base_ms = statistics.median(baseline)
        print(f"{'':34} {'p50 ms':>8} {'x service-info':>15}")
        rows = [
            ("service-info (baseline)", statistics.median(baseline)),
            ("submission page, no versions", statistics.median(plain)),
            ("versions page, first load (max)", max(cold)),
            ("versions page, first load (p50)", statistics.median(cold)),
            ("versions page, cached diffs", statistics.median(warm)),
        ]
        for label, ms in rows:
            print(f"{label:34} {ms:8.1f} {ms / base_ms:15.1f}")


if __name__ == "__main__":
    main()
