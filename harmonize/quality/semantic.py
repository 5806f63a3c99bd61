"""Semantic checks on phenotypic features, column-wise through the ancestor closure.

For the distinct terms of a batch, the ontology gives every (descendant, ancestor) pair
inside that set; joins against those pairs find, per phenopacket:

- a term observed together with an excluded ancestor (a contradiction);
- a term observed twice, or observed and excluded at once;
- observed ancestors made redundant by a more specific observed term (removed when
  configured, as curators do).

These run for every prefix that has an ontology index, not only HPO.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from harmonize.mapping.terms import prefix_of
from harmonize.ontology import Ontologies
from harmonize.quality.collect import FindingCollector

VALIDATOR = "phenotype-semantics"


Layout = list[tuple[int, Any]]  # (offset, TermIndex) per prefix present in the batch


def _coded(features: pa.Table, ontologies: Ontologies) -> tuple[pa.Table, Layout]:
    """Features with an integer ``_code`` (unique across prefixes) and a row index ``_i``."""
    col = features.column("term_id")
    distinct = pc.unique(col).to_pylist()
    prefixes = sorted(
        {p for p in (prefix_of(i) for i in distinct if i) if p and ontologies.has_index(p)}
    )
    codes = np.full(features.num_rows, -1, dtype=np.int64)
    layout: Layout = []
    offset = 0
    for prefix in prefixes:
        index = ontologies.get(prefix)
        got = index.codes(col)
        valid = pc.is_valid(got).to_numpy(zero_copy_only=False)
        values = pc.fill_null(got, 0).to_numpy(zero_copy_only=False).astype(np.int64)
        sel = valid & (codes < 0)
        codes[sel] = values[sel] + offset
        layout.append((offset, index))
        offset += len(index) + 1
    table = features.append_column("_code", pa.array(codes)).append_column(
        "_i", pa.array(np.arange(features.num_rows, dtype=np.int64))
    )
    return table.filter(pc.greater_equal(table.column("_code"), 0)), layout


def _pairs(coded: pa.Table, layout: Layout) -> pa.Table:
    """(``_desc``, ``_anc``) codes among the batch's distinct terms."""
    codes = np.unique(coded.column("_code").to_numpy())
    descs, ancs = [], []
    for offset, index in layout:
        local = codes[(codes >= offset) & (codes < offset + len(index))] - offset
        d, a = index.ancestor_pairs(local.astype(np.int32))
        descs.append(np.asarray(d, dtype=np.int64) + offset)
        ancs.append(np.asarray(a, dtype=np.int64) + offset)
    desc = np.concatenate(descs) if descs else np.array([], np.int64)
    anc = np.concatenate(ancs) if ancs else np.array([], np.int64)
    return pa.table({"_desc": desc, "_anc": anc})


def _where(table: pa.Table, i: int) -> dict[str, Any]:
    row = {
        c: table.column(c)[i].as_py()
        for c in (
            "source_file",
            "source_sheet",
            "source_row",
            "source_column",
            "phenopacket_id",
            "term_id",
        )
    }
    return {
        "file": row["source_file"],
        "sheet": row["source_sheet"],
        "row": row["source_row"],
        "column": row["source_column"],
        "phenopacket_id": row["phenopacket_id"],
        "value": row["term_id"],
    }


def _at(table: pa.Table, i: int) -> str:
    """`` in column 'X', row N`` for the record at ``i``, as far as known."""
    column = table.column("source_column")[i].as_py()
    row = table.column("source_row")[i].as_py()
    return (f" in column {column!r}" if column else "") + (f", row {row}" if row else "")


def check_and_prune(
    features: pa.Table,
    ontologies: Ontologies,
    findings: FindingCollector,
    *,
    remove_redundant: bool,
    on_conflict: str = "reject",
) -> pa.Table:
    """Report conflicts and duplicates; drop duplicates and (optionally) redundant ancestors."""
    if features.num_rows == 0:
        return features
    coded, layout = _coded(features, ontologies)
    pairs = _pairs(coded, layout)
    keys = ["phenopacket_id", "_code"]
    slim = coded.select(["phenopacket_id", "_code", "_i", "excluded"])
    obs = slim.filter(pc.invert(pc.fill_null(slim.column("excluded"), False)))
    exc = slim.filter(pc.fill_null(slim.column("excluded"), False))
    drop: set[int] = set()

    # observed twice (or excluded twice): keep the first
    for part, what in ((obs, "observed"), (exc, "excluded")):
        if part.num_rows == 0:
            continue
        first = part.group_by(keys, use_threads=False).aggregate([("_i", "min"), ("_i", "count")])
        dup = first.filter(pc.greater(first.column("_i_count"), 1))
        if dup.num_rows:
            firsts = set(first.column("_i_min").to_pylist())
            dupkeys = dup.select(keys)
            extra = part.join(dupkeys, keys=keys, join_type="inner")
            for i in sorted(set(extra.column("_i").to_pylist()) - firsts):
                drop.add(i)
                findings.add(
                    "warning",
                    "duplicate-term",
                    f"{features.column('term_id')[i].as_py()} is {what} twice for this "
                    "individual; the first is kept",
                    VALIDATOR,
                    hint="remove the repeated column or cell",
                    **_where(features, i),
                )

    # observed and excluded at once
    both = obs.join(
        exc.select([*keys, "_i"]).rename_columns(["phenopacket_id", "_code", "_j"]),
        keys=keys,
        join_type="inner",
    )
    for i, j in zip(both.column("_i").to_pylist(), both.column("_j").to_pylist(), strict=True):
        findings.add(
            "error",
            "observed-and-excluded",
            f"{features.column('term_id')[i].as_py()} is both observed and excluded "
            f"(excluded at row {features.column('source_row')[j].as_py()})",
            VALIDATOR,
            hint="keep one of the two statements",
            **_where(features, i),
        )

    if pairs.num_rows and obs.num_rows:
        # (pp, observed s) x (s -> ancestor a)
        up = obs.join(pairs, keys="_code", right_keys="_desc", join_type="inner")
        up = up.select(["phenopacket_id", "_i", "_anc"])
        # observed term with an excluded ancestor
        if exc.num_rows:
            ex = exc.select(["phenopacket_id", "_code", "_i"]).rename_columns(
                ["phenopacket_id", "_anc", "_j"]
            )
            clash = up.join(ex, keys=["phenopacket_id", "_anc"], join_type="inner")
            keep_observed = on_conflict == "keep-observed"
            for i, j in zip(
                clash.column("_i").to_pylist(), clash.column("_j").to_pylist(), strict=True
            ):
                if keep_observed:
                    drop.add(j)
                findings.add(
                    "warning" if keep_observed else "error",
                    "excluded-ancestor",
                    f"{features.column('term_id')[i].as_py()} "
                    f"({features.column('term_label')[i].as_py()}) is observed but its ancestor "
                    f"{features.column('term_id')[j].as_py()} "
                    f"({features.column('term_label')[j].as_py()}) is excluded"
                    f"{_at(features, j)}",
                    VALIDATOR,
                    hint=(
                        "the exclusion was dropped: an observed term implies its ancestors"
                        if keep_observed
                        else "an excluded term excludes all its descendants: correct one of the cells"
                    ),
                    **_where(features, i),
                )
        if remove_redundant:
            anc = up.select(["phenopacket_id", "_anc"]).rename_columns(["phenopacket_id", "_code"])
            redundant = obs.join(anc, keys=keys, join_type="left semi")
            drop.update(redundant.column("_i").to_pylist())
    if not drop:
        return features
    mask = np.ones(features.num_rows, dtype=bool)
    mask[list(drop)] = False
    return features.filter(pa.array(mask))
