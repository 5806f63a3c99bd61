"""The data of the table-format bench: a real publication, and small ones cut from it.

:func:`ingest_publication` generates a case-template submission with ``bench/synth.py`` and
ingests it with ``harmonize.pipeline.ingest`` in a child process (the children of
``bench/throughput.py``). :func:`load_publication` reads its published Parquet tables back.
The case template fills no measurement, so the ``measurements`` table of the pipeline's output
is empty; :func:`synth_measurements` gives it one row per individual with the exact published
schema, so that every operation touches five tables. Each table gains ``submission_id`` as a
column: the hive partition of today's layout becomes the table format's partition column.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

BENCH = Path(__file__).resolve().parent.parent
ROOT = BENCH.parent
for entry in (str(ROOT), str(BENCH)):
    if entry not in sys.path:
        sys.path.insert(0, entry)

import synth  # noqa: E402
import throughput  # noqa: E402

from harmonize.mapping.tables import SCHEMAS, TABLES, conform  # noqa: E402

PARTITION = "submission_id"
Publication = dict[str, pa.Table]


def schema_of(name: str) -> pa.Schema:
    """The published schema of a table plus the ``submission_id`` partition column."""
    return SCHEMAS[name].append(pa.field(PARTITION, pa.string(), nullable=False))


def ingest_publication(workdir: Path, rows: int, seed: int = 0) -> tuple[Path, str, float]:
    """Generate and ingest one ``rows``-individual submission; its workspace, id and seconds."""
    cache = workdir / "ontology-cache"
    prep = workdir / "prepare"
    synth.write_submission(prep / "source", throughput.PREPARE_ROWS, submission_id="prepare")
    got, failure = throughput.run_child(
        "prepare",
        {
            "workspace": str(prep / "workspace"),
            "source": str(prep / "source"),
            "cache": str(cache),
            "gx": False,
        },
        workdir,
    )
    if got is None or got["status"] != "published":
        raise RuntimeError(f"preparing the ontology cache failed: {failure or got}")
    sid = f"synth-{rows}"
    stats = synth.write_submission(workdir / sid, rows, submission_id=sid, seed=seed)
    synth.write_submission(workdir / "warmup", throughput.WARMUP_ROWS, submission_id="warmup")
    workspace = workdir / "workspace"
    got, failure = throughput.run_child(
        "ingest",
        {
            "workspace": str(workspace),
            "cache": str(cache),
            "gx": False,
            "warmup": str(workdir / "warmup"),
            "sources": [str(workdir / sid)],
        },
        workdir,
    )
    if got is None:
        raise RuntimeError(failure)
    problems = throughput.check_counts(got["runs"][0], stats.expected_counts)
    if problems:
        raise RuntimeError("; ".join(problems))
    return workspace, sid, got["runs"][0]["seconds"]


def synth_measurements(individuals: pa.Table, seed: int = 0) -> pa.Table:
    """One serum calcium per individual, in the published ``measurements`` schema."""
    n = individuals.num_rows
    rng = np.random.default_rng(seed)
    values = np.round(rng.normal(2.3, 0.25, n), 2)
    ages = pa.array([f"P{y}Y" for y in rng.integers(1, 60, n)], pa.string())
    return conform(
        "measurements",
        pa.table(
            {
                "phenopacket_id": individuals["phenopacket_id"],
                "assay_id": pa.repeat("LOINC:17861-6", n).cast(pa.string()),
                "assay_label": pa.repeat("Calcium [Mass/volume] in Serum or Plasma", n).cast(
                    pa.string()
                ),
                "value": pa.array(values, pa.float64()),
                "unit_id": pa.repeat("UCUM:mmol/L", n).cast(pa.string()),
                "unit_label": pa.repeat("millimole per liter", n).cast(pa.string()),
                "time_observed_age": ages,
                "source_file": pa.repeat("labs.csv", n).cast(pa.string()),
                "source_row": pa.array(np.arange(2, n + 2), pa.int64()),
                "source_column": pa.repeat("calcium", n).cast(pa.string()),
            }
        ),
    )


def synth_publication(n: int, sid: str, seed: int = 0) -> Publication:
    """Tables shaped like the pipeline's output, without the pipeline (``--quick``).

    Exactly the published schemas and about the same rows per individual (8 features, one
    disease, 1.5 variants, one measurement); the values are drawn, not harmonized.
    """
    rng = np.random.default_rng(seed)
    i = np.arange(n)
    pids = pa.array([f"PMID_{30_000_000 + k // 25}_patient_{k % 25 + 1}" for k in i])
    cells = [(tid, label) for tid, label, _ in synth.term_columns()]
    per = rng.poisson(8, n)
    owner = np.repeat(i, per)
    term = rng.integers(0, len(cells), owner.size)
    variants = np.repeat(i, np.where(rng.random(n) < 0.5, 1, 2))
    sexes = ("FEMALE", "MALE", "UNKNOWN_SEX")

    def labels(index: np.ndarray[Any, Any], k: int) -> pa.Array:
        return pa.array([cells[j][k] for j in index], pa.string())

    raw = {
        "individuals": pa.table(
            {
                "phenopacket_id": pids,
                "subject_id": pa.array([f"patient {k % 25 + 1}" for k in i]),
                "sex": pa.array([sexes[j] for j in rng.integers(0, 3, n)]),
                "age_at_last_encounter": pa.array([f"P{y}Y" for y in rng.integers(1, 60, n)]),
                "reference_id": pa.array([f"PMID:{30_000_000 + k // 25}" for k in i]),
                "profile": pa.repeat("hpo-case-template", n).cast(pa.string()),
                "source_file": pa.repeat("cases.csv", n).cast(pa.string()),
                "source_row": pa.array(i + 3, pa.int64()),
            }
        ),
        "phenotypic_features": pa.table(
            {
                "phenopacket_id": pids.take(pa.array(owner)),
                "term_id": labels(term, 0),
                "term_label": labels(term, 1),
                "excluded": pa.array(rng.random(owner.size) < 0.2),
                "source_file": pa.repeat("cases.csv", owner.size).cast(pa.string()),
                "source_row": pa.array(owner + 3, pa.int64()),
                "raw_value": pa.repeat("observed", owner.size).cast(pa.string()),
                "resolution_method": pa.repeat("id", owner.size).cast(pa.string()),
                "ontology_release": pa.repeat("HP 2025-01-16", owner.size).cast(pa.string()),
            }
        ),
        "diseases": pa.table(
            {
                "phenopacket_id": pids,
                "term_id": pa.repeat(synth.DISEASE[0], n).cast(pa.string()),
                "term_label": pa.repeat(synth.DISEASE[1], n).cast(pa.string()),
                "excluded": pa.repeat(False, n),
            }
        ),
        "variants": pa.table(
            {
                "phenopacket_id": pids.take(pa.array(variants)),
                "gene_id": pa.repeat(synth.GENE[0], variants.size).cast(pa.string()),
                "gene_symbol": pa.repeat(synth.GENE[1], variants.size).cast(pa.string()),
                "hgvs": pa.array(
                    [f"{synth.GENE[2]}:c.{100 + k}C>T" for k in rng.integers(0, 900, variants.size)]
                ),
            }
        ),
    }
    raw["measurements"] = synth_measurements(raw["individuals"], seed)
    return {name: with_partition(name, raw[name], sid) for name in TABLES}


def with_partition(name: str, table: pa.Table, sid: str) -> pa.Table:
    """``table`` in the published schema with a constant ``submission_id`` column."""
    table = conform(name, table)
    column = pa.repeat(sid, table.num_rows).cast(pa.string())
    return pa.Table.from_arrays([*table.columns, column], schema=schema_of(name))


def load_publication(workspace: Path, sid: str) -> tuple[Publication, str]:
    """The five published tables of ``sid`` (measurements synthesized), and what was real."""
    out: Publication = {}
    real = []
    for name in TABLES:
        path = workspace / "published" / "tables" / name / f"submission_id={sid}" / "part-0.parquet"
        if path.exists():
            out[name] = with_partition(name, pq.read_table(path), sid)
            real.append(name)
    if "measurements" not in out:
        out["measurements"] = with_partition(
            "measurements", synth_measurements(out["individuals"]), sid
        )
    note = f"pipeline output: {', '.join(real)}; synthesized: " + (
        ", ".join(sorted(set(TABLES) - set(real))) or "none"
    )
    return {name: out[name] for name in TABLES}, note


def split(pub: Publication, count: int, per: int, prefix: str = "pub") -> list[Publication]:
    """``count`` publications of ``per`` individuals each, cut from ``pub`` in order.

    Publication ``k`` holds individuals ``[k * per, (k + 1) * per)`` with every row of theirs
    in every table, under ``submission_id`` ``f"{prefix}-{k:04d}"``.
    """
    if count * per > pub["individuals"].num_rows:
        raise ValueError(f"{count} x {per} individuals wanted, {pub['individuals'].num_rows} held")
    ids = pub["individuals"]["phenopacket_id"].slice(0, count * per).combine_chunks()
    sids = pa.array([f"{prefix}-{k:04d}" for k in range(count)], pa.string())
    out: list[Publication] = [{} for _ in range(count)]
    for name, table in pub.items():
        index = pc.index_in(table["phenopacket_id"], value_set=ids)
        keep = pc.is_valid(index)
        table, index = table.filter(keep), pc.drop_null(index)
        group = pc.divide(index, pa.scalar(per, pa.int32()))
        order = pc.sort_indices(group)
        table, group = table.take(order), group.take(order)
        counts = np.bincount(group.to_numpy(), minlength=count)
        table = table.set_column(
            table.schema.get_field_index(PARTITION),
            table.schema.field(PARTITION),
            sids.take(group),
        )
        start = 0
        for k, n in enumerate(counts):
            out[k][name] = table.slice(start, int(n))
            start += int(n)
    return out


def new_version(pub: Publication) -> Publication:
    """The same publication resubmitted: every row changed (its ``source_file`` renamed)."""
    out: Publication = {}
    for name, table in pub.items():
        i = table.schema.get_field_index("source_file")
        out[name] = table.set_column(
            i, table.schema.field(i), pa.repeat("v2.csv", table.num_rows).cast(pa.string())
        )
    return out


def sid_of(pub: Publication) -> str:
    return str(pub["individuals"][PARTITION][0])


def rows(pub: Publication) -> dict[str, int]:
    return {name: table.num_rows for name, table in pub.items()}


def describe(pub: Publication) -> dict[str, Any]:
    return {"rows": rows(pub), "bytes": sum(t.nbytes for t in pub.values())}
