"""The child processes of ``bench/throughput.py``, each run in a fresh interpreter.

``python bench/throughput_child.py KIND SPEC.json RESULT.json`` runs one child (``prepare``,
``ingest`` or ``bound``) on the JSON spec the parent wrote and writes its JSON result:

- ``prepare`` compiles the ontology indexes once (a tiny ingest) and copies them out;
- ``ingest`` runs a warm-up ingest, then times ``harmonize.pipeline.ingest`` of each source,
  and reports peak RSS (optionally profiling one more ingest);
- ``bound`` times the lower bound: the published tables and phenopackets written again.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import synth  # noqa: E402

DOC_CHUNK = 20_000  # phenopackets loaded at a time for the lower bound


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def peak_rss_mb() -> float:
    """This process's peak resident set size (Linux reports ru_maxrss in KiB)."""
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def _settings(workspace: Path, gx: bool) -> Any:
    from harmonize.settings import Settings

    return Settings(workspace=workspace, run_great_expectations=gx)


def child_prepare(spec: dict[str, Any]) -> dict[str, Any]:
    """Compile the ontology indexes once (a tiny ingest), check the synthetic terms."""
    from harmonize.ontology import Ontologies
    from harmonize.pipeline import ingest

    workspace = Path(spec["workspace"])
    settings = _settings(workspace, spec["gx"])
    started = time.perf_counter()
    result = ingest(Path(spec["source"]), settings)
    seconds = time.perf_counter() - started
    synth.check_terms(Ontologies.load(settings.ontologies_dir, settings.cache_dir).get("HP"))
    shutil.copytree(settings.cache_dir, spec["cache"], dirs_exist_ok=True)
    import harmonize

    return {
        "seconds": seconds,
        "status": result.status,
        "message": result.message,
        "harmonize": str(Path(harmonize.__file__).parent),
    }


def child_ingest(spec: dict[str, Any]) -> dict[str, Any]:
    """Warm up, then time ``ingest`` of each source; peak RSS; optionally profile one more."""
    workspace = Path(spec["workspace"])
    shutil.copytree(spec["cache"], workspace / "cache", dirs_exist_ok=True)
    started = time.perf_counter()
    from harmonize.pipeline import ingest

    import_s = time.perf_counter() - started
    settings = _settings(workspace, spec["gx"])
    started = time.perf_counter()
    warm = ingest(Path(spec["warmup"]), settings)
    warmup_s = time.perf_counter() - started
    out: dict[str, Any] = {
        "import_s": import_s,
        "warmup_s": warmup_s,
        "warmup_status": warm.status,
        "rss_warmup_mb": peak_rss_mb(),
        "runs": [],
    }
    for source in spec["sources"]:
        started = time.perf_counter()
        result = ingest(Path(source), settings)
        seconds = time.perf_counter() - started
        out["runs"].append(
            {
                "submission_id": result.submission_id,
                "seconds": seconds,
                "status": result.status,
                "counts": result.counts,
                "findings": result.findings,
                "message": result.message,
                "report": str(result.report_json) if result.report_json else None,
            }
        )
        log(f"    ingest {result.submission_id}: {result.status} in {seconds:.1f} s")
    out["rss_peak_mb"] = peak_rss_mb()
    if spec.get("profile"):
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        result = ingest(Path(spec["profile"]), settings)
        profiler.disable()
        out["profile_s"] = time.perf_counter() - started
        out["profile_status"] = result.status
        stats = pstats.Stats(profiler, stream=sys.stdout).strip_dirs()
        print(
            f"\n=== cProfile of ingest({spec['profile_rows']:,} individuals), "
            f"{out['profile_s']:.1f} s under the profiler: top 25 by cumulative time ===",
            flush=True,
        )
        stats.sort_stats("cumulative").print_stats(25)
        print("=== top 25 by own (total) time ===", flush=True)
        stats.sort_stats("tottime").print_stats(25)
        sys.stdout.flush()
        if spec.get("profile_out"):
            stats.dump_stats(spec["profile_out"])
    return out


def _published_tables(workspace: Path, sid: str) -> Any:
    """(name, rows) of each published table holding ``sid``: its partition of the Delta
    table, without the partition column, i.e. the columns the published files hold."""
    from harmonize.warehouse import Warehouse
    from harmonize.warehouse.delta import PARTITION, TABLES

    tables = Warehouse.of(_settings(workspace, gx=False)).tables
    for name in TABLES:
        table = tables.read(name, where={PARTITION: sid})
        if table.num_rows:
            yield name, table.drop_columns([PARTITION])


def _phenopacket_dir(folder: Path) -> Path:
    """A submission's Phenopackets: its latest version's ``v<N>/`` folder."""
    versions = [p for p in folder.iterdir() if p.is_dir() and p.name[1:].isdigit()]
    return max(versions, key=lambda p: int(p.name[1:])) if versions else folder


def child_bound(spec: dict[str, Any]) -> dict[str, Any]:
    """The lower bound: rewrite the published tables and phenopackets, only the writes timed."""
    import orjson
    import pyarrow.parquet as pq

    workspace, sid = Path(spec["workspace"]), spec["submission_id"]
    dest = Path(spec["dest"])
    dest.mkdir(parents=True, exist_ok=True)
    rows: dict[str, int] = {}
    parquet_s = 0.0
    for name, table in _published_tables(workspace, sid):
        rows[name] = table.num_rows
        started = time.perf_counter()
        pq.write_table(table, dest / f"{name}.parquet", compression="zstd")
        parquet_s += time.perf_counter() - started
        del table
    pp_dir = _phenopacket_dir(workspace / "published" / "phenopackets" / sid)
    names = sorted(os.listdir(pp_dir))
    json_dir = dest / "phenopackets"
    json_dir.mkdir()
    json_s = 0.0
    ids_ok = True
    for start in range(0, len(names), DOC_CHUNK):
        chunk = names[start : start + DOC_CHUNK]
        docs = [orjson.loads((pp_dir / name).read_bytes()) for name in chunk]
        ids_ok = ids_ok and all(doc.get("id") for doc in docs)
        started = time.perf_counter()
        for name, doc in zip(chunk, docs, strict=True):
            data = orjson.dumps(doc, option=orjson.OPT_INDENT_2)
            with open(json_dir / name, "wb") as fh:
                fh.write(data)
        json_s += time.perf_counter() - started
        del docs
    shutil.rmtree(dest, ignore_errors=True)
    return {
        "parquet_s": parquet_s,
        "json_s": json_s,
        "seconds": parquet_s + json_s,
        "rows": rows,
        "phenopackets": len(names),
        "ids_ok": ids_ok,
    }


CHILDREN = {"prepare": child_prepare, "ingest": child_ingest, "bound": child_bound}


def main(kind: str, spec_path: str, result_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text())
    result = CHILDREN[kind](spec)
    Path(result_path).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
