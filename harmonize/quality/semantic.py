"""Semantic checks on phenotypic features: the annotation propagation rule, column-wise.

An observed term implies its ancestors; an excluded term excludes its descendants. So a
Phenopacket must not hold (phenopacket-tools' ``HpoAncestryValidator`` and
``HpoUniqueValidator`` report each as an error):

- a term listed twice (``duplicate-term``);
- an observed term with an excluded ancestor (``excluded-ancestor``, a contradiction);
- an observed term with an observed ancestor (``redundant-ancestor``: keep the specific one);
- an excluded term with an excluded descendant (``redundant-exclusion``: keep the general one).

We also report a term both observed and excluded (``observed-and-excluded``), which the
reference does not check.

What happens then depends on the :data:`Mode`:

- ``ingest`` (tables we map ourselves): repeats and redundant statements are dropped with a
  finding that names the cell; a contradiction follows ``on_conflict``. With
  ``remove_redundant`` off, redundant statements stay in the table, but the Phenopacket
  documents never hold them.
- ``republish`` (submitted Phenopackets, published as they are): nothing can be dropped, so
  every violation is an error and the submission is rejected.
- ``validate`` (``harmonize validate``): the reference validator's levels.

For the distinct terms of a batch, the ontology gives every (descendant, ancestor) pair
inside that set; joins against those pairs find the violations per phenopacket. These run
for every prefix that has an ontology index, not only HPO.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from harmonize.mapping.terms import prefix_of
from harmonize.ontology import Ontologies
from harmonize.quality.collect import FindingCollector
from harmonize.quality.findings import Level

VALIDATOR = "phenotype-semantics"
Mode = Literal["ingest", "republish", "validate"]

Layout = list[tuple[int, Any]]  # (offset, TermIndex) per prefix present in the batch
_KEYS = ["phenopacket_id", "_code"]


@dataclass(frozen=True)
class Pruned:
    """The features to publish in the table, and those the Phenopacket documents hold."""

    table: pa.Table
    documents: pa.Table


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


def _above(rows: pa.Table, pairs: pa.Table, others: pa.Table) -> pa.Table:
    """``(_i, _j)``: row ``_i`` of ``rows`` has row ``_j`` of ``others`` as an ancestor term."""
    if rows.num_rows == 0 or others.num_rows == 0 or pairs.num_rows == 0:
        return pa.table({"_i": pa.array([], pa.int64()), "_j": pa.array([], pa.int64())})
    up = rows.select(["phenopacket_id", "_code", "_i"]).join(
        pairs, keys="_code", right_keys="_desc", join_type="inner"
    )
    anc = others.select(["phenopacket_id", "_code", "_i"]).rename_columns(
        ["phenopacket_id", "_anc", "_j"]
    )
    return (
        up.select(["phenopacket_id", "_i", "_anc"])
        .join(anc, keys=["phenopacket_id", "_anc"], join_type="inner")
        .select(["_i", "_j"])
    )


class _Report:
    """Findings about rows of one features table, with the cells they point at."""

    def __init__(self, features: pa.Table, findings: FindingCollector) -> None:
        self.features = features
        self.findings = findings

    def term(self, i: int) -> str:
        label = self.features.column("term_label")[i].as_py()
        tid = self.features.column("term_id")[i].as_py()
        return f"{tid} ({label})" if label else str(tid)

    def at(self, i: int) -> str:
        """`` in column 'X', row N`` for the record at ``i``, as far as known."""
        column = self.features.column("source_column")[i].as_py()
        row = self.features.column("source_row")[i].as_py()
        return (f" in column {column!r}" if column else "") + (f", row {row}" if row else "")

    def where(self, i: int) -> dict[str, Any]:
        f = self.features
        return {
            "file": f.column("source_file")[i].as_py(),
            "sheet": f.column("source_sheet")[i].as_py(),
            "row": f.column("source_row")[i].as_py(),
            "column": f.column("source_column")[i].as_py(),
            "phenopacket_id": f.column("phenopacket_id")[i].as_py(),
            "value": f.column("term_id")[i].as_py(),
        }

    def each(
        self,
        level: Level,
        category: str,
        pairs: list[tuple[int, int]],
        message: Any,
        hint: str,
    ) -> None:
        """One finding per ``(i, j)`` pair; only as many messages are built as are kept."""
        room = self.findings.room(VALIDATOR, category, level)
        for i, j in pairs[:room]:
            self.findings.add(level, category, message(i, j), VALIDATOR, hint=hint, **self.where(i))
        self.findings.tally(VALIDATOR, category, level, max(0, len(pairs) - room))


def _first_per(table: pa.Table) -> tuple[pa.Table, list[int]]:
    """The first row of each (phenopacket, term) and the indices ``_i`` of the repeats."""
    if table.num_rows == 0:
        return table, []
    first = table.group_by(_KEYS, use_threads=False).aggregate([("_i", "min")])
    firsts = set(first.column("_i_min").to_pylist())
    keep = pc.is_in(table.column("_i"), value_set=pa.array(sorted(firsts), pa.int64()))
    repeats = table.filter(pc.invert(keep)).column("_i").to_pylist()
    return table.filter(keep), sorted(repeats)


def _pairs_list(table: pa.Table) -> list[tuple[int, int]]:
    by = table.group_by("_i", use_threads=False).aggregate([("_j", "min")]).sort_by("_i")
    return list(zip(by.column("_i").to_pylist(), by.column("_j_min").to_pylist(), strict=True))


def check_and_prune(
    features: pa.Table,
    ontologies: Ontologies,
    findings: FindingCollector,
    *,
    mode: Mode = "ingest",
    remove_redundant: bool = True,
    on_conflict: str = "reject",
) -> Pruned:
    """Report every violation of the annotation propagation rule; prune where ``mode`` may."""
    if features.num_rows == 0:
        return Pruned(features, features)
    coded, layout = _coded(features, ontologies)
    pairs = _pairs(coded, layout)
    report = _Report(features, findings)
    slim = coded.select(["phenopacket_id", "_code", "_i", "excluded"])
    excluded_mask = pc.fill_null(slim.column("excluded"), False)
    obs, obs_repeats = _first_per(slim.filter(pc.invert(excluded_mask)))
    exc, exc_repeats = _first_per(slim.filter(excluded_mask))
    rewrite = mode == "ingest"
    drop: set[int] = set()  # rows left out of the table and the documents
    from_documents: set[int] = set()  # rows the table keeps but the documents leave out

    # a term listed twice
    for repeats, what in ((obs_repeats, "observed"), (exc_repeats, "excluded")):
        report.each(
            "warning" if rewrite else "error",
            "duplicate-term",
            [(i, i) for i in repeats],
            lambda i, _j, what=what: (
                f"{report.term(i)} is {what} twice for this individual"
                + ("; the first is kept" if rewrite else "")
            ),
            "remove the repeated column or cell" if rewrite else "list each term once",
        )
        if rewrite:
            drop.update(repeats)

    # a term observed and excluded at once
    both = obs.join(
        exc.select([*_KEYS, "_i"]).rename_columns(["phenopacket_id", "_code", "_j"]),
        keys=_KEYS,
        join_type="inner",
    )
    report.each(
        "warning" if mode == "validate" else "error",
        "observed-and-excluded",
        list(zip(both.column("_i").to_pylist(), both.column("_j").to_pylist(), strict=True)),
        lambda i, j: f"{report.term(i)} is both observed and excluded{report.at(j)}",
        "keep one of the two statements",
    )

    # an observed term with an excluded ancestor: a contradiction
    # every pair: an observed term may have several excluded ancestors, all contradicted
    found = _above(obs, pairs, exc).sort_by([("_i", "ascending"), ("_j", "ascending")])
    clash = list(zip(found.column("_i").to_pylist(), found.column("_j").to_pylist(), strict=True))
    keep_observed = rewrite and on_conflict == "keep-observed"
    report.each(
        "warning" if keep_observed else "error",
        "excluded-ancestor",
        clash,
        lambda i, j: (
            f"{report.term(i)} is observed but its ancestor {report.term(j)} is "
            f"excluded{report.at(j)}"
        ),
        "the exclusion was dropped: an observed term implies its ancestors"
        if keep_observed
        else "an excluded term excludes all its descendants: correct one of the cells",
    )
    if keep_observed:
        conflicting = {j for _, j in clash}
        drop.update(conflicting)
        exc = exc.filter(
            pc.invert(pc.is_in(exc.column("_i"), pa.array(sorted(conflicting), pa.int64())))
        )

    # redundant statements: an observed ancestor of an observed term, an excluded
    # descendant of an excluded term. The more informative statement implies the other.
    redundant_level: Level = "info" if rewrite else "error"
    ancestors = _pairs_list(
        _above(obs, pairs, obs).rename_columns(["_j", "_i"]).select(["_i", "_j"])
    )
    descendants = _pairs_list(_above(exc, pairs, exc))
    kept = "; kept in the table, left out of the Phenopacket"
    dropped = "; it was dropped" if remove_redundant else kept
    report.each(
        redundant_level,
        "redundant-ancestor",
        ancestors,
        lambda i, j: (
            f"{report.term(i)} is observed, and so implied by its observed descendant "
            f"{report.term(j)}{report.at(j)}" + (dropped if rewrite else "")
        ),
        "an observed term implies its ancestors: list only the most specific term",
    )
    report.each(
        redundant_level,
        "redundant-exclusion",
        descendants,
        lambda i, j: (
            f"{report.term(i)} is excluded, and so implied by the exclusion of its "
            f"ancestor {report.term(j)}{report.at(j)}" + (dropped if rewrite else "")
        ),
        "an excluded term excludes its descendants: list only the most general exclusion",
    )
    if rewrite:
        redundant = {i for i, _ in ancestors} | {i for i, _ in descendants}
        (drop if remove_redundant else from_documents).update(redundant)

    table = _without(features, drop)
    documents = _without(features, drop | from_documents) if from_documents else table
    return Pruned(table, documents)


def _without(features: pa.Table, rows: set[int]) -> pa.Table:
    if not rows:
        return features
    mask = np.ones(features.num_rows, dtype=bool)
    mask[list(rows)] = False
    return features.filter(pa.array(mask))
