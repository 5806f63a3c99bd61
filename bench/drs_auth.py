"""Cost of access control on the DRS service: a controlled lookup with a passport
(RS256 passport + one ES256 visa verified per request) against a public lookup.

Both go through the real app in process (FastAPI TestClient, SQLite registry, real files);
the baseline is the public ``GET /objects/{id}`` of the same run. Prints p50/p99 per kind
and the ratio of the controlled p50 to the public p50. Nothing is asserted.

    uv run --frozen python bench/drs_auth.py [--requests 500]
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402

from harmonize.drs.app import create_app  # noqa: E402
from harmonize.drs.config import DrsSettings  # noqa: E402
from harmonize.drs.ids import drs_id  # noqa: E402
from harmonize.drs.registry import ObjectSpec, Registry  # noqa: E402
from tests.drs.passport_kit import KIT  # noqa: E402


def _spec(workspace: Path, name: str, access: str) -> ObjectSpec:
    data = f"{name}\n".encode() * 100
    path = f"published/{name}"
    (workspace / path).parent.mkdir(parents=True, exist_ok=True)
    (workspace / path).write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    return ObjectSpec(
        id=drs_id("bench", name, sha),
        name=name,
        path=path,
        size=len(data),
        sha256=sha,
        mime_type="text/plain",
        submission_id="bench",
        dataset="demo",
        access=access,  # type: ignore[arg-type]
        role="published",
    )


def _timed(call: object, n: int) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        response = call()  # type: ignore[operator]
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.text
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp) / "ws"
        registry = Registry(f"sqlite:///{tmp}/registry.sqlite")
        registry.create_all()
        public, controlled = (
            _spec(workspace, "a.txt", "public"),
            _spec(workspace, "b.txt", "controlled"),
        )
        registry.register([public, controlled])
        settings = DrsSettings(
            workspace=workspace, registry_url=registry.url, auth=KIT.auth_settings()
        )
        headers = {"Authorization": f"Bearer {KIT.token_for('demo')}"}
        with TestClient(create_app(settings, registry=registry)) as client:
            for _ in range(20):  # warm-up
                client.get(f"/ga4gh/drs/v1/objects/{public.id}")
                client.get(f"/ga4gh/drs/v1/objects/{controlled.id}", headers=headers)
            base = _timed(lambda: client.get(f"/ga4gh/drs/v1/objects/{public.id}"), args.requests)
            auth = _timed(
                lambda: client.get(f"/ga4gh/drs/v1/objects/{controlled.id}", headers=headers),
                args.requests,
            )
        registry.dispose()
    for label, times in (("public lookup (baseline)", base), ("controlled + passport", auth)):
        q = statistics.quantiles(times, n=100)
        print(f"{label:26s} n={len(times)} p50={q[49]:.2f} ms p99={q[98]:.2f} ms")
    ratio = statistics.median(auth) / statistics.median(base)
    print(f"ratio controlled/public p50: {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
