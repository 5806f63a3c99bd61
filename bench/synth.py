"""Synthetic submissions in the shape of the pyphetools HPO case template, for benchmarks.

Writes ``OUT/manifest.yaml`` and ``OUT/cases.csv``: the template's two header rows (names,
then types or HPO ids), its sixteen fixed columns, the ``HPO`` separator and 44 HPO term
columns. Each individual has about ten term cells filled (``observed``, ``excluded``, an
ISO 8601 onset age such as ``P3Y``, now and then ``na``); the rest are blank.

The data is valid by construction, so the submission publishes:

- 40 term columns are pairwise unrelated in HPO; two more pairs are ancestor and
  descendant on purpose (Alopecia / Alopecia universalis, Growth delay / Short stature),
  to exercise the removal of redundant ancestors. Ancestor cells are never ``excluded``,
  so no observed term ever has an excluded ancestor;
- (PMID, individual_id) is unique: 25 individuals per PMID;
- sexes M/F/U, disease OMIM:240300, AIRE c. HGVS alleles (homozygous or compound
  heterozygous), ISO ages.

Rows are generated with numpy and written with pyarrow in chunks, so memory stays bounded
and a million rows take a few seconds. :class:`SynthStats` gives the row counts the
published tables must have.

    uv run --frozen python bench/synth.py OUT_DIR --rows 100000 [--seed 0] [--check]
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

ROOT = Path(__file__).resolve().parent.parent

FIXED = (
    ("PMID", "CURIE"),
    ("title", "str"),
    ("individual_id", "str"),
    ("comment", "optional"),
    ("disease_id", "CURIE"),
    ("disease_label", "str"),
    ("HGNC_id", "CURIE"),
    ("gene_symbol", "str"),
    ("transcript", "str"),
    ("allele_1", "str"),
    ("allele_2", "str"),
    ("variant.comment", "optional"),
    ("age_of_onset", "age"),
    ("age_at_last_encounter", "age"),
    ("deceased", "yes/no/na"),
    ("sex", "M:F:O:U"),
)

# pairwise unrelated in HP 2025-01-16 (none is an ancestor of another), all current
TERMS: tuple[tuple[str, str], ...] = (
    ("HP:0001045", "Vitiligo"),
    ("HP:0000980", "Pallor"),
    ("HP:0002728", "Chronic mucocutaneous candidiasis"),
    ("HP:0001081", "Cholelithiasis"),
    ("HP:0002582", "Atrophic gastritis"),
    ("HP:0002014", "Diarrhea"),
    ("HP:0001250", "Seizure"),
    ("HP:0002024", "Malabsorption"),
    ("HP:0001094", "Iridocyclitis"),
    ("HP:0012203", "Onychomycosis"),
    ("HP:0001803", "Nail pits"),
    ("HP:0008404", "Nail dystrophy"),
    ("HP:0001096", "Keratoconjunctivitis"),
    ("HP:0006297", "Enamel hypoplasia"),
    ("HP:0000829", "Hypoparathyroidism"),
    ("HP:0031817", "Decreased circulating parathyroid hormone level"),
    ("HP:0003472", "Hypocalcemic tetany"),
    ("HP:0008207", "Primary adrenal insufficiency"),
    ("HP:0000821", "Hypothyroidism"),
    ("HP:0004319", "Decreased circulating aldosterone concentration"),
    ("HP:0000121", "Nephrocalcinosis"),
    ("HP:0100651", "Type I diabetes mellitus"),
    ("HP:0002608", "Celiac disease"),
    ("HP:0001133", "Constriction of peripheral visual field"),
    ("HP:0007663", "Reduced visual acuity"),
    ("HP:0000580", "Pigmentary retinopathy"),
    ("HP:0001903", "Anemia"),
    ("HP:0001746", "Asplenia"),
    ("HP:0000135", "Hypogonadism"),
    ("HP:0100647", "Graves disease"),
    ("HP:0200120", "Chronic active hepatitis"),
    ("HP:0011109", "Chronic sinusitis"),
    ("HP:0000403", "Recurrent otitis media"),
    ("HP:0100806", "Sepsis"),
    ("HP:0008209", "Premature ovarian insufficiency"),
    ("HP:0001733", "Pancreatitis"),
    ("HP:0000518", "Cataract"),
    ("HP:0001263", "Global developmental delay"),
    ("HP:0000365", "Hearing impairment"),
    ("HP:0001252", "Hypotonia"),
)
# (ancestor, descendant): an observed descendant makes the observed ancestor redundant
PAIRS: tuple[tuple[tuple[str, str], tuple[str, str]], ...] = (
    (("HP:0001596", "Alopecia"), ("HP:0002289", "Alopecia universalis")),
    (("HP:0001510", "Growth delay"), ("HP:0004322", "Short stature")),
)

FILLED_PER_ROW = 10.0  # expected filled term cells per individual
PER_PMID = 25
# term cell values: (text, share among filled cells); ages mean observed with that onset
CELLS: tuple[tuple[str, float], ...] = (
    ("observed", 0.50),
    ("excluded", 0.30),
    ("P3Y", 0.05),
    ("P1Y6M", 0.04),
    ("P10Y", 0.04),
    ("P25Y", 0.03),
    ("na", 0.04),
)
ALLELES = ("c.769C>T", "c.967_979del13", "c.415C>T", "c.1163_1164insA", "c.254A>G", "c.22C>T")
ONSETS = ("P1Y", "P3Y", "P5Y", "P11Y", "P6M", "P2Y6M", "Childhood onset", "na")
LAST = ("P12Y", "P17Y", "P30Y", "P41Y", "P8Y6M", "na")
DECEASED = ("no", "no", "no", "yes", "na")
SEXES = ("M", "F", "U")
TITLES = (
    'Autoimmune polyendocrinopathy, a "synthetic" case series',
    "Novel AIRE mutations and an estimate of disease prevalence",
    "APECED in a founder population: clinical course, 40 years on",
)
DISEASE = ("OMIM:240300", "Autoimmune polyendocrinopathy syndrome, type I")
GENE = ("HGNC:360", "AIRE", "NM_000383.4")


@dataclass
class SynthStats:
    """What the generated submission holds, and what its published tables must count."""

    rows: int
    observed: int  # observed cells (including ISO onset ages)
    excluded: int
    redundant: int  # observed ancestors made redundant by an observed descendant
    heterozygous: int  # rows with two different alleles (two variant rows)
    csv_bytes: int

    @property
    def expected_counts(self) -> dict[str, int]:
        return {
            "individuals": self.rows,
            "diseases": self.rows,
            "variants": self.rows + self.heterozygous,
            "phenotypic_features": self.observed + self.excluded - self.redundant,
        }


def term_columns() -> list[tuple[str, str, bool]]:
    """(id, label, is an ancestor of another column) for every term column, in order."""
    cols = [(tid, label, False) for tid, label in TERMS]
    for (aid, alabel), (did, dlabel) in PAIRS:
        cols += [(aid, alabel, True), (did, dlabel, False)]
    return cols


def check_terms(hpo: Any) -> None:
    """Fail unless every term is current, labelled as in HPO, and related only as in PAIRS."""
    cols = term_columns()
    codes = []
    for tid, label, _ in cols:
        code = hpo.code(tid)
        if code is None or hpo.is_obsolete(code) or hpo.term_id(code) != tid:
            raise ValueError(f"{tid} is not a current primary HPO id")
        if hpo.label(code) != label:
            raise ValueError(f"{tid} is labelled {hpo.label(code)!r}, not {label!r}")
        codes.append(code)
    related = {
        (cols[i][0], cols[j][0])
        for i, a in enumerate(codes)
        for j, d in enumerate(codes)
        if i != j and hpo.is_ancestor(a, d)
    }
    wanted = {(a[0], d[0]) for a, d in PAIRS}
    if related != wanted:
        raise ValueError(f"unexpected ancestor pairs: {sorted(related ^ wanted)}")


def _strings(values: tuple[str, ...], index: np.ndarray[Any, Any]) -> pa.Array:
    """``values[index]`` as an Arrow string array (a negative index gives null)."""
    mask = index < 0
    return pc.take(pa.array(values, pa.string()), pa.array(np.where(mask, 0, index), mask=mask))


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _chunk(
    rng: np.random.Generator, start: int, n: int, stats: SynthStats
) -> pa.Table:  # one chunk of rows [start, start + n)
    i = np.arange(start, start + n, dtype=np.int64)
    pmid_number = pa.array(30_000_000 + i // PER_PMID).cast(pa.string())
    patient = pa.array(i % PER_PMID + 1).cast(pa.string())
    a1 = rng.integers(0, len(ALLELES), n)
    hom = rng.random(n) < 0.5
    a2 = np.where(hom, a1, (a1 + rng.integers(1, len(ALLELES), n)) % len(ALLELES))
    stats.heterozygous += int((a1 != a2).sum())
    nulls = pa.nulls(n, pa.string())
    columns: list[pa.Array] = [
        _join("PMID:", pmid_number),
        _strings(TITLES, (i // PER_PMID % len(TITLES)).astype(np.int64)),
        _join("patient ", patient),
        nulls,
        pa.repeat(DISEASE[0], n).cast(pa.string()),
        pa.repeat(DISEASE[1], n).cast(pa.string()),
        pa.repeat(GENE[0], n).cast(pa.string()),
        pa.repeat(GENE[1], n).cast(pa.string()),
        pa.repeat(GENE[2], n).cast(pa.string()),
        _strings(ALLELES, a1),
        _strings(ALLELES, a2),
        nulls,
        _strings(ONSETS, rng.integers(0, len(ONSETS), n)),
        _strings(LAST, rng.integers(0, len(LAST), n)),
        _strings(DECEASED, rng.integers(0, len(DECEASED), n)),
        _strings(SEXES, rng.integers(0, len(SEXES), n)),
        nulls,  # the HPO separator column
    ]
    texts = tuple(t for t, _ in CELLS)
    shares = np.array([s for _, s in CELLS])
    cols = term_columns()
    filled = rng.random((n, len(cols))) < FILLED_PER_ROW / len(cols)
    kind = rng.choice(len(CELLS), size=(n, len(cols)), p=shares / shares.sum())
    observed_kinds = np.array([t not in ("excluded", "na") for t in texts])
    excluded_kind, observed_kind = texts.index("excluded"), texts.index("observed")
    observed_at: dict[str, np.ndarray[Any, Any]] = {}
    for j, (tid, _, is_ancestor) in enumerate(cols):
        k = kind[:, j]
        if is_ancestor:  # an excluded ancestor would contradict an observed descendant
            k = np.where(k == excluded_kind, observed_kind, k)
        k = np.where(filled[:, j], k, -1)
        obs = (k >= 0) & observed_kinds[np.maximum(k, 0)]
        observed_at[tid] = obs
        stats.observed += int(obs.sum())
        stats.excluded += int((k == excluded_kind).sum())
        columns.append(_strings(texts, k))
    for (aid, _), (did, _) in PAIRS:
        stats.redundant += int((observed_at[aid] & observed_at[did]).sum())
    stats.rows += n
    return pa.Table.from_arrays(columns, names=[f"c{j}" for j in range(len(columns))])


def write_submission(
    out_dir: Path,
    rows: int,
    *,
    submission_id: str | None = None,
    seed: int = 0,
    chunk_rows: int = 100_000,
) -> SynthStats:
    """Write ``out_dir/cases.csv`` and ``out_dir/manifest.yaml``; return what they hold."""
    out_dir.mkdir(parents=True, exist_ok=True)
    sid = submission_id or f"synth-{rows}"
    cols = term_columns()
    names = [name for name, _ in FIXED] + ["HPO"] + [label for _, label, _ in cols]
    types = [kind for _, kind in FIXED] + ["na"] + [tid for tid, _, _ in cols]
    path = out_dir / "cases.csv"
    stats = SynthStats(0, 0, 0, 0, 0, 0)
    rng = np.random.default_rng(seed)
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
    with path.open("w", newline="", encoding="utf-8") as text:
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(names)
        writer.writerow(types)
    with path.open("ab") as fh:
        for start in range(0, rows, chunk_rows):
            table = _chunk(rng, start, min(chunk_rows, rows - start), stats)
            pacsv.write_csv(table, fh, options)
    stats.csv_bytes = path.stat().st_size
    write_manifest(out_dir, sid)
    return stats


def write_manifest(out_dir: Path, submission_id: str) -> None:
    """The submission's ``manifest.yaml`` (one file, ``cases.csv``, no checksum)."""
    (out_dir / "manifest.yaml").write_text(
        f"submission_id: {submission_id}\n"
        "submitter: throughput benchmark\n"
        "dataset: synthetic\n"
        "profile: hpo-case-template\n"
        "access: public\n"
        "files:\n"
        "  - path: cases.csv\n",
        encoding="utf-8",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="directory to write manifest.yaml and cases.csv")
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--submission-id")
    parser.add_argument(
        "--check", action="store_true", help="check the term columns against HPO first"
    )
    args = parser.parse_args(argv)
    if args.check:
        import tempfile

        sys.path.insert(0, str(ROOT))
        from harmonize.ontology import Ontologies

        with tempfile.TemporaryDirectory() as cache:
            check_terms(Ontologies.load(ROOT / "ontologies", Path(cache)).get("HP"))
    stats = write_submission(args.out, args.rows, submission_id=args.submission_id, seed=args.seed)
    print({**asdict(stats), "expected_counts": stats.expected_counts})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
