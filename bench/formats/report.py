"""The printed figures of ``bench/table_formats.py``: one section per step."""

from __future__ import annotations

import statistics
from typing import Any

TABLES = ("individuals", "phenotypic_features", "diseases", "variants", "measurements")
FORMATS = ("delta", "iceberg")
TARGET = 2.0  # the 1,000 / 10 ratio the product wants for lifecycle operations


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def fmt(value: float, spec: str = ".3f") -> str:
    return "-" if value != value else format(value, spec)


def print_all(results: dict[str, Any]) -> int:
    mode = results["mode"]
    problems: list[str] = []
    print()
    print(f"Table formats for the published tables: {results['versions']}")
    print(f"Data: {results['note']}")
    if results["ingest_s"] == results["ingest_s"]:
        print(
            f"(the pipeline ingested the submission in {results['ingest_s']:.1f} s, untimed here)"
        )
    for step in ("append", "duck", "lifecycle", "history", "erasure", "s3"):
        if step in results:
            problems += SECTIONS[step](results[step], mode)
    print()
    for problem in problems:
        print(f"PROBLEM: {problem}")
    print(f"Total wall clock {results['total_s']:.0f} s. {'OK' if not problems else 'FAILED'}")
    return 1 if problems else 0


def errors(step: str, got: dict[str, Any]) -> list[str]:
    return [f"{step} {key}: {value['error']}" for key, value in got.items() if "error" in value]


def append(got: dict[str, Any], mode: Any) -> list[str]:
    kinds = [k for k in ("parquet", *FORMATS) if "error" not in got.get(k, {"error": 1})]
    print()
    print(
        f"1. Append one {mode.rows:,}-individual publication to five new tables "
        f"(median of {mode.append_repeat}, seconds; parquet = pyarrow write_table zstd, "
        "the lower bound)"
    )
    head = f"{'table':<22}" + "".join(f"{k:>10}" for k in kinds)
    head += "".join(f"{k + '/pq':>12}" for k in kinds if k != "parquet")
    print(head)
    print("-" * len(head))
    for name in (*TABLES, "total"):
        cells = {
            k: got[k]["total"] if name == "total" else got[k]["per_table"][name] for k in kinds
        }
        line = f"{name:<22}" + "".join(f"{fmt(cells[k]):>10}" for k in kinds)
        if "parquet" in cells:
            line += "".join(
                f"{fmt(cells[k] / cells['parquet'], '.1f') + 'x':>12}"
                for k in kinds
                if k != "parquet"
            )
        print(line)
    print(
        f"{'peak RSS MB':<22}"
        + "".join(f"{got[k]['rss_peak_mb']:>10,.0f}" for k in kinds)
        + "   (after loading the tables: "
        + ", ".join(f"{k} {got[k]['rss_loaded_mb']:,.0f}" for k in kinds)
        + ")"
    )
    print(
        f"{'on disk MB (files)':<22}"
        + "".join(f"{got[k]['bytes'] / 1e6:>10.1f}" for k in kinds)
        + "   ("
        + ", ".join(f"{k} {got[k]['files']}" for k in kinds)
        + " files)"
    )
    return errors("append", got)


def duck(got: dict[str, Any], mode: Any) -> list[str]:
    if "error" in got:
        return [f"duck: {got['error']}"]
    kinds = [k for k in ("parquet", *FORMATS) if k in got]
    print()
    print(
        f"2. DuckDB offline on those tables (median of {mode.duck_repeat}, ms): read_parquet, "
        "delta_scan, iceberg_scan; 'own' = the format's own scan to Arrow, ms"
    )
    head = f"{'query':<30}{'rows':>9}" + "".join(f"{k:>10}" for k in kinds)
    head += "".join(f"{k + ' own':>13}" for k in FORMATS if k in got) + "  counts agree"
    print(head)
    print("-" * len(head))
    problems = []
    for query in got[kinds[0]]:
        cells = {k: got[k][query] for k in kinds}
        agree = all(c["count"] == cells[kinds[0]]["count"] for c in cells.values())
        agree = agree and all(cells[k]["own"] == cells[k]["count"] for k in FORMATS if k in cells)
        label = query.replace(" filtered", ": observed seizure")
        line = f"{label:<30}{cells[kinds[0]]['count']:>9,}"
        line += "".join(f"{cells[k]['seconds'] * 1000:>10.1f}" for k in kinds)
        line += "".join(f"{cells[k]['own_seconds'] * 1000:>13.0f}" for k in FORMATS if k in cells)
        print(line + f"  {'yes' if agree else 'NO'}")
        if not agree:
            problems.append(f"duckdb counts differ on {query}: {cells}")
    return problems


OPS = (
    ("append", "append one publication"),
    ("open", "open the five tables"),
    ("replace", "replace one submission"),
    ("delete", "delete one individual"),
    ("read", "read all five tables"),
    ("read_one", "read one submission"),
    ("travel", "read all, as of before"),
    ("travel_one", "read one, as of before"),
)


LIFECYCLE = {
    "delta": "delta",
    "delta-stats": "delta, column stats on",
    "iceberg": "iceberg",
}


def lifecycle(got: dict[str, Any], mode: Any) -> list[str]:
    small, large = mode.counts
    kinds = [k for k in LIFECYCLE if all("ops" in got.get(f"{k}/{n}", {}) for n in mode.counts)]
    print()
    print(
        f"3. Lifecycle at {small:,} vs {large:,} prior publications of {mode.per} individuals "
        f"(median seconds over the five tables; {mode.repeat} repeats, reads "
        f"{min(mode.repeat, 3)}; target ratio <= {TARGET:g})"
    )
    print(f"{'':<26}" + "".join(f"  {LIFECYCLE[k]:-^26}" for k in kinds))
    head = f"{'operation':<26}" + f"  {small:>8,}{large:>10,}{'ratio':>8}" * len(kinds)
    print(head)
    print("-" * len(head))
    problems = errors("lifecycle", got)
    for op, label in OPS:
        line = f"{label:<26}"
        for k in kinds:
            a, b = (med(got[f"{k}/{n}"]["ops"][op]) for n in mode.counts)
            whole = op in ("read", "travel")
            mark = "" if whole else (" " if b / a <= TARGET else "!")
            line += f"  {fmt(a):>8}{fmt(b):>10}{fmt(b / a, '.1f') + mark:>8}"
        print(line)
    print(
        "  '!' marks a ratio over the target; whole-table reads grow with the rows "
        f"({large // small}x more at {large:,}), so they carry no mark."
    )
    for k in kinds:
        for n in mode.counts:
            r = got[f"{k}/{n}"]
            rows = sum(r["rows"].values())
            print(
                f"  {LIFECYCLE[k]} at {n:,}: built in {r['build_s']:.1f} s; {rows:,} rows, "
                f"{r['files']:,} files, {r['bytes'] / 1e6:.1f} MB; checks "
                f"{'ok' if not r['problems'] else 'FAILED'}"
            )
            problems += [f"lifecycle {k}/{n}: {p}" for p in r["problems"]]
            problems += duck_check(f"lifecycle {k}/{n}", r["duckdb"])
    for k in kinds:
        d = got[f"{k}/{large}"]["duckdb"]
        print(
            f"  DuckDB on {LIFECYCLE[k]} at {large:,}, after the operations: "
            + "; ".join(
                f"{q.replace(' filtered', ' (filtered)')} {v['seconds'] * 1000:.0f} ms"
                for q, v in d.items()
                if q in ("individuals", "phenotypic_features filtered")
            )
            + "; counts equal the own scan's: "
            + ("NO" if duck_check("", d) else "yes")
        )
    return problems


def duck_check(where: str, d: dict[str, Any]) -> list[str]:
    return [
        f"{where}: duckdb {q} {v['count']} != own {v['own']}"
        for q, v in d.items()
        if v["count"] != v["own"]
    ]


HISTORY = {
    "delta-handle": "delta, one DeltaTable kept open",
    "delta": "delta, reopened at checkpoints",
    "iceberg": "iceberg, every snapshot kept",
    "iceberg-expire": "iceberg, last 10 snapshots kept",
    "iceberg-merge-expire": "iceberg, + manifest merging",
}


def history(got: dict[str, Any], mode: Any) -> list[str]:
    print()
    n = mode.history
    buckets = 5
    size = max(1, n // buckets)
    print(
        f"4. Commit cost as history grows: one table, {n} one-publication appends, median ms "
        f"per commit in each fifth"
    )
    head = (
        f"{'variant':<34}"
        + "".join(f"{f'{i * size + 1}-{(i + 1) * size}':>10}" for i in range(buckets))
        + f"{'last/first':>12}{'open ms':>9}{'read one ms':>13}{'metadata files':>22}"
    )
    print(head)
    print("-" * len(head))
    for kind, label in HISTORY.items():
        r = got.get(kind, {})
        if "seconds" not in r:
            print(f"{label:<34}  {r.get('error', 'not run')}")
            continue
        s = r["seconds"]
        cells = [med(s[i * size : (i + 1) * size]) * 1000 for i in range(buckets)]
        meta = f"{r['metadata_files']}" + (
            f" ({r['manifests']} manifests)" if r["manifests"] is not None else ""
        )
        print(
            f"{label:<34}"
            + "".join(f"{c:>10.0f}" for c in cells)
            + f"{cells[-1] / cells[0]:>11.1f}x{r['open'] * 1000:>9.0f}"
            + f"{r['read_one'] * 1000:>13.0f}{meta:>22}"
        )
    return errors("history", got)


ERASURE = {
    "delta-stats": "delta, column stats on (the default)",
    "delta": "delta, delta.dataSkippingNumIndexedCols=0",
    "iceberg-stats": "iceberg, default column metrics (truncate(16))",
    "iceberg": "iceberg, write.metadata.metrics.default=none",
}


NEEDLES = {"id": "the id", "birth": "its date of birth"}


def hits_line(hits: dict[str, list[str]]) -> str:
    kinds = [k for k in hits if not k.startswith("#")]
    if not kinds:
        return "no trace"
    return "; ".join(f"{k} x{len(hits['#' + k])} ({', '.join(hits[k])})" for k in kinds)


def erasure(got: dict[str, Any], mode: Any) -> list[str]:
    print()
    print(
        "5. Erasure: three publications, one replaced, one individual deleted from all five "
        "tables; every file searched for its id and its date of birth (raw, Parquet values, "
        "inflated Avro, gzip/zstd)"
    )
    problems = errors("erasure", got)
    for kind, label in ERASURE.items():
        r = got.get(kind, {})
        if "levels" not in r:
            continue
        print(
            f"  {label} ({r['files_searched']} files at the end; {r['victim']}, born {r['birth']})"
        )
        for level in r["levels"]:
            steps = f" [{'; '.join(level['steps'])}]" if level["steps"] else ""
            print(f"    {level['level']}{steps}:")
            for what, hits in level["hits"].items():
                print(f"      {NEEDLES[what]}: {hits_line(hits)}")
        print(
            f"    control (an individual kept, {r['control_id']}): {hits_line(r['control'])}; "
            f"rows after: {'ok' if r['rows_ok'] else 'WRONG'}; DuckDB after: "
            f"{'ok' if r['duckdb_after'] else 'WRONG'}; time travel to before the delete: "
            f"{r['travel_before_delete']}"
        )
        if not r["rows_ok"] or not r["duckdb_after"]:
            problems.append(f"erasure {kind}: rows or DuckDB wrong after expiry")
        if not r["control"]:
            problems.append(f"erasure {kind}: the control id was not found: the search is blind")
    return problems


def s3(got: dict[str, Any], mode: Any) -> list[str]:
    print()
    print(
        f"6. S3 on a moto server: one publication of {mode.per} individuals, one individual deleted"
    )
    if "error" in got:
        return [f"s3: {got['error']}"]
    print(f"  moto, a second PutObject with If-None-Match: * is {got['if_none_match']}")
    problems = []
    for kind in FORMATS:
        r = got[kind]
        c = r["concurrent"]
        print(
            f"  {kind}: create {r['create_s']:.2f} s, append {r['append_s']:.2f} s, delete "
            f"{r['delete_s']:.2f} s (rows removed: {sum(r['removed'].values())}); "
            f"{r['objects']} objects; {got['writers']} writers x {got['appends']} appends to "
            f"individuals at once: {c['rows']:,} rows of "
            f"{got['concurrent_expected']:,}"
            + (f"; failed commits: {len(c['errors'])} ({c['errors'][0]})" if c["errors"] else "")
        )
        if c["rows"] > got["concurrent_expected"]:
            problems.append(f"s3 {kind}: more rows than appended")
        if not c["errors"] and c["rows"] != got["concurrent_expected"]:
            problems.append(f"s3 {kind}: rows lost without an error")
    for option, outcome in got["delta"]["planted"].items():
        print(f"  delta, next commit planted by another writer, {option}: {outcome}")
    return problems


SECTIONS = {
    "append": append,
    "duck": duck,
    "lifecycle": lifecycle,
    "history": history,
    "erasure": erasure,
    "s3": s3,
}
