"""Lifecycle cost against the size of the warehouse: a version commit and a withdrawal.

For each warehouse size (10 and 1,000 published submissions of about 100 individuals
each), in one run:

1. one submission is published through the real pipeline (``harmonize ingest``), from a
   synthetic case template of 100 individuals (``bench/synth.py``);
2. the other submissions are bulk-loaded beside it: their rows in the five Delta tables
   (ten submissions per commit), their Phenopackets' DRS objects and bundles, their
   subject index and their publications in the ledger, as publishing them would leave
   them (the files themselves are not written: nothing times them);
3. then, three times each: a new version of the first submission (other content) through
   ``ingest``, and the withdrawal of one of its individuals (``withdraw``). Printed:
   medians, and the ratio of the 1,000 figure to the 10 figure (target: at most 2; the
   cost should grow with the rows changed, not with the warehouse).

    uv run --frozen python bench/lifecycle.py [--sizes 10,1000] [--repeat 3] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402

from harmonize.drs.ids import bundle_id, drs_id  # noqa: E402
from harmonize.drs.registration import register_stream  # noqa: E402
from harmonize.drs.registry import BundleHeader, ObjectSpec, Registry  # noqa: E402
from harmonize.lifecycle.withdraw import withdraw  # noqa: E402
from harmonize.pipeline import ingest  # noqa: E402
from harmonize.settings import Settings  # noqa: E402
from harmonize.warehouse import TABLES, Warehouse, current, ledger  # noqa: E402
from harmonize.warehouse.ledger import subject_hash  # noqa: E402

BATCH = 10  # background submissions per bulk commit
TARGET = 2.0


def _settings(workspace: Path) -> Settings:
    return Settings(workspace=workspace, run_great_expectations=False, data_docs=False)


def _publish_first(settings: Settings, work: Path) -> None:
    from synth import write_submission

    source = work / "first-v1"
    write_submission(source, 100, submission_id="first", seed=0)
    result = ingest(source, settings)
    assert result.status == "published", result.message


def _as(rows: pa.Table, sid: str) -> pa.Table:
    """The template's rows as submission ``sid``'s, about other people (subject ids)."""
    out = rows.set_column(
        rows.schema.get_field_index("submission_id"),
        "submission_id",
        pa.array([sid] * rows.num_rows, pa.string()),
    )
    if "subject_id" in out.column_names:
        subjects = pc.binary_join_element_wise(f"{sid}:", out.column("subject_id"), "")
        out = out.set_column(out.schema.get_field_index("subject_id"), "subject_id", subjects)
    return out


def _background(settings: Settings, count: int) -> float:
    """Bulk-load ``count`` submissions shaped like the first one; returns the seconds."""
    started = time.perf_counter()
    registry = Registry(settings.registry)
    warehouse = Warehouse.of(settings)
    view = current(registry)
    template = {name: warehouse.read(name, view) for name in TABLES}
    now = datetime.now(UTC)
    for start in range(0, count, BATCH):
        sids = [f"bg-{i:05d}" for i in range(start, min(start + BATCH, count))]
        with registry.transaction() as conn:
            seq = ledger.begin(conn, "publish", dataset="synthetic", note="bulk-loaded")
        versions = {}
        for name in TABLES:
            rows = template[name]
            parts = [_as(rows, sid) for sid in sids]
            data = pa.concat_tables(parts).to_reader() if rows.num_rows else rows.to_reader()
            versions[name] = warehouse.tables.append(name, data, seq=seq)
        with registry.transaction() as conn:
            for sid in sids:
                specs, index = [], []
                for pid, subject in zip(
                    template["individuals"].column("phenopacket_id").to_pylist(),
                    template["individuals"].column("subject_id").to_pylist(),
                    strict=True,
                ):
                    subject = f"{sid}:{subject}"  # other people than the first submission's
                    rel = f"published/phenopackets/{sid}/v1/{pid}.json"
                    digest = hashlib.sha256(rel.encode()).hexdigest()
                    spec = ObjectSpec(
                        id=drs_id(sid, rel, digest), name=f"{pid}.json", path=rel, size=1,
                        sha256=digest, mime_type="application/json", submission_id=sid,
                        dataset="synthetic", access="public", role="published", created_time=now,
                    )  # fmt: skip
                    specs.append(spec)
                    index.append(
                        {
                            "object_id": spec.id,
                            "dataset": "synthetic",
                            "subject_hash": subject_hash("synthetic", subject),
                            "submission_id": sid,
                            "version": 1,
                        }
                    )
                header = BundleHeader(
                    id=bundle_id(sid, hashlib.sha256(sid.encode()).hexdigest()), name=sid,
                    submission_id=sid, dataset="synthetic", access="public", created_time=now,
                )  # fmt: skip
                register_stream(conn, specs, header, registry.chunk)
                ledger.index_subjects(conn, index)
            ledger.commit(conn, seq, {**view.table_versions, **versions}, {"bulk": len(sids)})
        view = current(registry)
    return time.perf_counter() - started


def _time_version(settings: Settings, work: Path, repeat: int) -> tuple[float, str]:
    from synth import write_submission

    source = work / f"first-v{repeat + 2}"
    write_submission(source, 100, submission_id="first", seed=repeat + 1)
    started = time.perf_counter()
    result = ingest(source, settings)
    elapsed = time.perf_counter() - started
    assert result.status == "published", result.message
    return elapsed, result.message


def _time_withdrawal(settings: Settings, repeat: int) -> float:
    registry = Registry(settings.registry)
    table = Warehouse.of(settings).read("individuals", current(registry))
    first = table.filter(pc.equal(table.column("submission_id"), "first"))
    subject = first.column("subject_id")[repeat].as_py()
    started = time.perf_counter()
    done = withdraw(settings, registry, dataset="synthetic", subject=subject, by="bench")
    elapsed = time.perf_counter() - started
    assert done.status == "withdrawn" and done.rows["individuals"] >= 1, done
    return elapsed


def bench_size(size: int, repeat: int, root: Path) -> dict[str, Any]:
    work = root / f"size-{size}"
    settings = _settings(work / "ws")
    _publish_first(settings, work)
    loaded = _background(settings, size - 1)
    print(
        f"[{size:,}] {size - 1:,} background submissions bulk-loaded in {loaded:.1f} s", flush=True
    )
    versions, withdrawals = [], []
    for r in range(repeat):
        seconds, message = _time_version(settings, work, r)
        versions.append(seconds)
        print(f"[{size:,}] version commit {r + 1}: {seconds:.2f} s ({message})", flush=True)
        withdrawals.append(_time_withdrawal(settings, r))
        print(f"[{size:,}] withdrawal {r + 1}: {withdrawals[-1]:.2f} s", flush=True)
    return {
        "size": size,
        "version": statistics.median(versions),
        "withdrawal": statistics.median(withdrawals),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,1000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        results = [bench_size(size, args.repeat, Path(tmp)) for size in sizes]
    print(f"\n{'published submissions':>22}  {'version commit s':>17}  {'withdrawal s':>13}")
    for r in results:
        print(f"{r['size']:>22,}  {r['version']:>17.2f}  {r['withdrawal']:>13.2f}")
    if len(results) >= 2:
        small, large = results[0], results[-1]
        for what in ("version", "withdrawal"):
            ratio = large[what] / small[what]
            verdict = "met" if ratio <= TARGET else "NOT met"
            print(
                f"{what}: {large['size']:,} / {small['size']:,} = {ratio:.2f}x "
                f"(target <= {TARGET:.0f}x): {verdict}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
