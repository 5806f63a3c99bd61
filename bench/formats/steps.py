"""The measured steps of ``bench/table_formats.py``, each run in a child process.

Every function takes a JSON-able spec and returns a JSON-able result. Tables come from the
publication written once by the parent (``PUB/<table>.parquet``, ``submission_id`` included).
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from formats import data, duck
from formats.base import TableFormat
from formats.data import TABLES, Publication
from formats.delta import Delta
from formats.iceberg import Iceberg


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make(kind: str, root: Path, **options: Any) -> TableFormat:
    """``delta``, ``iceberg``, or a variant: ``delta-handle`` (no refresh at checkpoints),
    ``iceberg-merge`` (manifest merging), ``*-stats`` (column statistics on: the defaults)."""
    stats = kind.endswith("-stats")
    if kind.startswith("delta"):
        return Delta(root, refresh=kind != "delta-handle", stats=stats, **options)
    return Iceberg(root, merge=kind == "iceberg-merge", stats=stats, **options)


def load(folder: str) -> Publication:
    return {name: pq.read_table(Path(folder) / f"{name}.parquet") for name in TABLES}


def disk(root: Path) -> tuple[int, int]:
    """Bytes and files under ``root``."""
    sizes = [os.path.getsize(Path(d) / n) for d, _, names in os.walk(root) for n in names]
    return sum(sizes), len(sizes)


def timed(fn: Any, *args: Any) -> float:
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started


def write_parquet(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, compression="zstd")


# -- 1. append one publication --------------------------------------------------------------


def append(spec: dict[str, Any]) -> dict[str, Any]:
    """Append the publication to five new tables, ``repeat`` times; or the Parquet bound."""
    kind, dest = spec["format"], Path(spec["dest"])
    pub = load(spec["pub"])
    rss_loaded = peak_rss_mb()
    per_table: dict[str, list[float]] = {name: [] for name in TABLES}
    totals = []
    for r in range(spec["repeat"]):
        root = dest / f"r{r}"
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        fmt = None if kind == "parquet" else make(kind, root)
        total = 0.0
        for name, table in pub.items():
            if fmt is None:
                seconds = timed(write_parquet, table, root / f"{name}.parquet")
            else:
                fmt.create(name, table.schema)
                seconds = timed(fmt.append, name, table)
            per_table[name].append(seconds)
            total += seconds
        totals.append(total)
        if r < spec["repeat"] - 1:
            shutil.rmtree(root)
    size, files = disk(root)
    return {
        "per_table": {name: statistics.median(v) for name, v in per_table.items()},
        "total": statistics.median(totals),
        "totals": totals,
        "rss_loaded_mb": rss_loaded,
        "rss_peak_mb": peak_rss_mb(),
        "bytes": size,
        "files": files,
        "root": str(root),
    }


# -- 2. lifecycle at N prior publications --------------------------------------------------


def pick_individual(pub: Publication, all_ids: set[str], last: bool = False) -> str:
    """An individual of ``pub`` whose id is no part of another id (a clean byte search);
    with ``last``, the greatest such id: a file's max, what column statistics keep."""
    ids = pub["individuals"]["phenopacket_id"].to_pylist()
    for pid in sorted(ids, reverse=True) if last else ids:
        if not any(pid in other for other in all_ids if other != pid):
            return str(pid)
    raise ValueError("every id is part of another one")


def lifecycle(spec: dict[str, Any]) -> dict[str, Any]:
    count, per, tail, group, repeat = (spec[k] for k in ("count", "per", "tail", "group", "repeat"))
    root = Path(spec["dest"])
    shutil.rmtree(root, ignore_errors=True)
    fmt = make(spec["format"], root)
    pubs = data.split(load(spec["pub"]), count, per)
    all_ids = {pid for p in pubs for pid in p["individuals"]["phenopacket_id"].to_pylist()}
    for name in TABLES:
        fmt.create(name, data.schema_of(name))
    out: dict[str, Any] = {"ops": {}}
    ops: dict[str, list[float]] = out["ops"]

    # build: the first count - tail publications in commits of `group`, then upkeep
    started = time.perf_counter()
    bulk = pubs[: count - tail]
    for i in range(0, len(bulk), group):
        fmt.publish({n: pa.concat_tables([p[n] for p in bulk[i : i + group]]) for n in TABLES})
    for name in TABLES:
        fmt.maintain(name)
    out["build_s"] = time.perf_counter() - started
    ops["append"] = [timed(fmt.publish, p) for p in pubs[count - tail :]]
    before = {name: fmt.version(name) for name in TABLES}

    # the publications each operation works on: distinct, from the middle of the table
    middle = count // 2
    targets = [pubs[(middle + k) % count] for k in range(2 * repeat)]
    replaced, deleted = targets[:repeat], targets[repeat:]
    expected = {n: sum(p[n].num_rows for p in pubs) for n in TABLES}

    ops["open"] = [sum(timed(fmt.reopen, n) for n in TABLES) for _ in range(repeat)]
    ops["replace"] = []
    for p in replaced:
        sid, v2 = data.sid_of(p), data.new_version(p)
        ops["replace"].append(sum(timed(fmt.replace_submission, n, sid, v2[n]) for n in TABLES))
    ops["delete"] = []
    victims = []
    for p in deleted:
        sid, pid = data.sid_of(p), pick_individual(p, all_ids)
        victims.append((sid, pid))
        ops["delete"].append(sum(timed(fmt.delete_individual, n, sid, pid) for n in TABLES))
        for n in TABLES:
            gone = p[n].filter(pc.equal(p[n]["phenopacket_id"], pid)).num_rows
            expected[n] -= gone
    reads = max(1, min(repeat, 3))
    ops["read"] = [sum(timed(fmt.read, n) for n in TABLES) for _ in range(reads)]
    one = data.sid_of(replaced[0])
    ops["read_one"] = [sum(timed(fmt.read, n, one) for n in TABLES) for _ in range(repeat)]
    ops["travel"] = [sum(timed(fmt.read, n, None, before[n]) for n in TABLES) for _ in range(reads)]
    ops["travel_one"] = [
        sum(timed(fmt.read, n, one, before[n]) for n in TABLES) for _ in range(repeat)
    ]

    # checks: rows now; the replaced submission's new and old rows; the deleted individuals
    problems = []
    now = {n: fmt.read(n).num_rows for n in TABLES}
    if now != expected:
        problems.append(f"rows {now} != expected {expected}")
    for n in TABLES:
        new = fmt.read(n, one)
        if new.num_rows != replaced[0][n].num_rows or set(new["source_file"].to_pylist()) - {
            "v2.csv"
        }:
            problems.append(f"{n}: the replaced submission's rows are not the new version's")
        old = fmt.read(n, one, before[n])
        if "v2.csv" in old["source_file"].to_pylist():
            problems.append(f"{n}: time travel shows the new version")
        for sid, pid in victims:
            if pid in fmt.read(n, sid)["phenopacket_id"].to_pylist():
                problems.append(f"{n}: {pid} still there")
    out.update(problems=problems, rows=now, versions=before)
    out["duckdb"] = duck_counts(fmt, spec.get("duck_repeat", 3))
    out["bytes"], out["files"] = disk(root)
    return out


def duck_counts(fmt: TableFormat, repeat: int) -> dict[str, Any]:
    """count(*) of each table and one filtered count, by DuckDB and by the format's own scan."""
    con = duck.connect()
    out: dict[str, Any] = {}
    for name, where, own in queries():
        sql = f"SELECT count(*) FROM {fmt.duckdb_source(name)}" + (
            f" WHERE {where}" if where else ""
        )
        count, seconds = duck.timed_count(con, sql, repeat)
        started = time.perf_counter()
        table = fmt.read(name)
        expected = table.filter(own).num_rows if own is not None else table.num_rows
        out[f"{name}{' filtered' if where else ''}"] = {
            "count": count,
            "seconds": seconds,
            "own": expected,
            "own_seconds": time.perf_counter() - started,
        }
    return out


FILTER_TERM = "HP:0001250"  # Seizure, one of the synthetic term columns


def queries() -> list[tuple[str, str, Any]]:
    observed = (pc.field("term_id") == FILTER_TERM) & (pc.field("excluded") == False)  # noqa: E712
    return [
        *[(name, "", None) for name in TABLES],
        ("phenotypic_features", f"term_id = '{FILTER_TERM}' AND NOT excluded", observed),
    ]


# -- 3. commit cost against history ---------------------------------------------------------


def history(spec: dict[str, Any]) -> dict[str, Any]:
    """One table, ``commits`` one-publication appends: seconds per commit as history grows."""
    root = Path(spec["dest"])
    shutil.rmtree(root, ignore_errors=True)
    kind, commits = spec["format"], spec["commits"]
    fmt = make(kind.removesuffix("-expire"), root)
    table = load(spec["pub"])["individuals"]
    pubs = data.split({"individuals": table}, commits, spec["per"])
    fmt.create("individuals", data.schema_of("individuals"))
    seconds = []
    for k, p in enumerate(pubs):
        seconds.append(timed(fmt.append, "individuals", p["individuals"]))
        if kind.endswith("-expire") and k % 10 == 9:
            fmt.maintain("individuals")
    # then: what a reader pays, and the metadata files behind it
    sid = data.sid_of(pubs[len(pubs) // 2])
    fmt.reopen("individuals")
    read_one = [timed(fmt.read, "individuals", sid) for _ in range(3)]
    location = fmt.location("individuals")
    meta = location / "_delta_log" if (location / "_delta_log").exists() else location / "metadata"
    return {
        "seconds": seconds,
        "open": timed(fmt.reopen, "individuals"),
        "read_one": statistics.median(read_one),
        "metadata_files": sum(1 for _ in meta.iterdir()),
        "manifests": fmt.manifests("individuals") if isinstance(fmt, Iceberg) else None,
    }


# -- 4. DuckDB on the appended 100k tables --------------------------------------------------


def duck_on_append(spec: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind, root in spec["roots"].items():
        if kind == "parquet":
            out[kind] = parquet_counts(Path(root), spec["repeat"])
            continue
        fmt = make(kind, Path(root))
        for name in TABLES:
            fmt.reopen(name)
        out[kind] = duck_counts(fmt, spec["repeat"])
    return out


def parquet_counts(root: Path, repeat: int) -> dict[str, Any]:
    con = duck.connect()
    out = {}
    for name, where, _ in queries():
        sql = f"SELECT count(*) FROM read_parquet('{root / name}.parquet')" + (
            f" WHERE {where}" if where else ""
        )
        count, seconds = duck.timed_count(con, sql, repeat)
        out[f"{name}{' filtered' if where else ''}"] = {"count": count, "seconds": seconds}
    return out


# -- 5. erasure -----------------------------------------------------------------------------


def erasure(spec: dict[str, Any]) -> dict[str, Any]:
    from formats import erasure as search

    root = Path(spec["dest"])
    shutil.rmtree(root, ignore_errors=True)
    fmt = make(spec["format"], root)
    pubs = data.split(load(spec["pub"]), 3, spec["per"])
    all_ids = {pid for p in pubs for pid in p["individuals"]["phenopacket_id"].to_pylist()}
    victim = pick_individual(pubs[2], all_ids, last=True)
    control = pick_individual(pubs[0], all_ids)
    out = search.scenario(fmt, pubs, victim, control)
    con = duck.connect()
    got = con.execute(f"SELECT count(*) FROM {fmt.duckdb_source('individuals')}").fetchone()
    out["duckdb_after"] = got is not None and got[0] == fmt.read("individuals").num_rows
    out.update(victim=victim, control_id=control, birth=search.BIRTH)
    return out


# -- 6. S3 ----------------------------------------------------------------------------------


def s3(spec: dict[str, Any]) -> dict[str, Any]:
    from formats import s3 as on_s3

    pub = data.split(load(spec["pub"]), 1, spec["per"])[0]
    pub = {name: pub[name] for name in spec["tables"]}
    all_ids = set(pub["individuals"]["phenopacket_id"].to_pylist())
    return on_s3.run(pub, pick_individual(pub, all_ids), spec["writers"])


CHILDREN = {
    "append": append,
    "lifecycle": lifecycle,
    "history": history,
    "duck": duck_on_append,
    "erasure": erasure,
    "s3": s3,
}
