"""How fast the ontology engine loads HPO and resolves terms.

Prints, for the pinned HPO release:

1. load: a cold pronto load (``pronto.Ontology`` in a fresh subprocess, import time
   excluded), a cold index build (:meth:`TermIndex.build`: pronto plus compilation)
   and a warm index load (:meth:`TermIndex.load` from the on-disk cache, median of
   several), with the ratio of pronto's load to the warm load (the issue's target: at
   least 50x);
2. resolution of ``--n`` (100k) mixed ids, alt ids and labels: column-wise with
   :meth:`TermIndex.resolve_ids_and_labels` (plain and dictionary-encoded strings), and
   one by one with :meth:`TermIndex.resolve` (fresh index, then again with its memo
   warm); target: at least 1M terms/s for exact ids and labels;
3. hierarchy: ``is_ancestor`` and ``ancestors()`` calls per second on random terms;
4. the fuzzy tier: ``resolve()`` on a few hundred generated misspellings of labels,
   with the share that comes back as the intended term.

Figures and ratios only; nothing is asserted.

    uv run --frozen python bench/ontology.py [--obo PATH] [--n 100000] [--repeat 7]
        [--misspellings 300] [--seed 1]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harmonize.ontology import TermIndex  # noqa: E402
from harmonize.ontology.cache import cache_path, read_cache  # noqa: E402
from harmonize.ontology.compile import CompiledIndex  # noqa: E402
from harmonize.ontology.manifest import file_sha256  # noqa: E402

DEFAULT_OBO = ROOT / "ontologies" / "hp-2025-01-16.obo"

_PRONTO_SNIPPET = """
import sys, time
import pronto
start = time.perf_counter()
ontology = pronto.Ontology(sys.argv[1], import_depth=0, encoding="utf-8")
print(time.perf_counter() - start, len(ontology.terms()))
"""


def _median(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:>14,.0f} /s"


def bench_load(obo: Path, cache: Path, repeat: int) -> TermIndex:
    print(f"== load: {obo.name} ({obo.stat().st_size / 1e6:.1f} MB)")
    out = subprocess.run(
        [sys.executable, "-c", _PRONTO_SNIPPET, str(obo)],
        capture_output=True,
        text=True,
        check=True,
    )
    pronto_s, pronto_terms = out.stdout.split()
    pronto_load = float(pronto_s)
    print(f"pronto load, fresh process       {pronto_load * 1e3:10.1f} ms  ({pronto_terms} terms)")

    start = time.perf_counter()
    built = TermIndex.build(obo, "HP")
    build_s = time.perf_counter() - start
    print(f"index build (pronto + compile)   {build_s * 1e3:10.1f} ms  ({len(built)} terms)")

    TermIndex.load(obo, "HP", cache)  # builds once more and writes the cache
    digest = file_sha256(obo)
    cached = cache_path(cache, "HP", digest)
    warm = _median(lambda: TermIndex.load(obo, "HP", cache, sha256=digest), repeat)
    warm_hashing = _median(lambda: TermIndex.load(obo, "HP", cache), repeat)
    data: CompiledIndex | None = read_cache(cached, "HP", digest)
    assert data is not None
    unpickle = _median(lambda: read_cache(cached, "HP", digest), repeat)
    wrap = _median(lambda: TermIndex(data), repeat)
    print(
        f"warm load (cache, sha given)     {warm * 1e3:10.1f} ms  median of {repeat}; "
        f"{cached.stat().st_size / 1e6:.1f} MB cache file"
    )
    print(f"  of which unpickling            {unpickle * 1e3:10.1f} ms")
    print(f"  of which TermIndex.__init__    {wrap * 1e3:10.1f} ms")
    print(f"warm load (cache, file hashed)   {warm_hashing * 1e3:10.1f} ms")
    print(f"ratio pronto load / warm load    {pronto_load / warm:10.1f} x   (target >= 50x)")
    print(f"ratio pronto load / warm+hash    {pronto_load / warm_hashing:10.1f} x")
    print(f"ratio index build / warm load    {build_s / warm:10.1f} x")
    return TermIndex.load(obo, "HP", cache, sha256=digest)


def _mixed_values(index: TermIndex, n: int, rng: np.random.Generator) -> list[str]:
    """40% primary ids, 10% alt ids, 50% labels, of live terms."""
    live = np.flatnonzero(~index.obsolete_mask(np.arange(len(index))))
    alt_ids = sorted(index._data.alt_ids)
    values: list[str] = []
    picks = rng.choice(live, n)
    kinds = rng.random(n)
    alt_picks = rng.integers(0, len(alt_ids), n)
    for code, kind, alt in zip(picks.tolist(), kinds.tolist(), alt_picks.tolist(), strict=True):
        if kind < 0.4:
            values.append(index.term_id(code))
        elif kind < 0.5:
            values.append(alt_ids[alt])
        else:
            values.append(index.label(code))
    return values


def bench_resolution(
    index: TermIndex, obo: Path, cache: Path, n: int, repeat: int, rng: np.random.Generator
) -> None:
    print(f"\n== resolution: {n:,} mixed values (40% ids, 10% alt ids, 50% labels)")
    values = _mixed_values(index, n, rng)
    array = pa.array(values, type=pa.string())
    encoded = array.dictionary_encode()
    index.resolve_ids_and_labels(array[:10])  # builds the lookup tables once

    codes, methods = index.resolve_ids_and_labels(array)
    counts = Counter(methods.to_pylist())
    print(f"resolved {n - codes.null_count:,} of {n:,}; methods {dict(sorted(counts.items()))}")
    vector = _median(lambda: index.resolve_ids_and_labels(array), repeat)
    vector_dict = _median(lambda: index.resolve_ids_and_labels(encoded), repeat)
    print(f"resolve_ids_and_labels, strings  {_rate(n, vector)}  (target >= 1,000,000 /s)")
    print(
        f"resolve_ids_and_labels, dict     {_rate(n, vector_dict)}  ({len(encoded.dictionary):,} distinct)"
    )
    codes_only = _median(lambda: index.codes(array), repeat)
    print(f"codes() (ids only), strings      {_rate(n, codes_only)}")

    fresh = TermIndex.load(obo, "HP", cache, sha256=index.sha256)
    start = time.perf_counter()
    for value in values:
        fresh.resolve(value)
    cold_loop = time.perf_counter() - start
    start = time.perf_counter()
    for value in values:
        fresh.resolve(value)
    warm_loop = time.perf_counter() - start
    print(f"resolve() loop, memo cold        {_rate(n, cold_loop)}")
    print(f"resolve() loop, memo warm        {_rate(n, warm_loop)}")
    print(f"ratio vectorized / loop (cold)   {cold_loop / vector:10.1f} x")


def bench_hierarchy(index: TermIndex, n: int, rng: np.random.Generator) -> None:
    print(f"\n== hierarchy: {n:,} random term pairs")
    anc = rng.integers(0, len(index), n).tolist()
    desc = rng.integers(0, len(index), n).tolist()
    # a realistic share of true pairs: half of them ask about a real ancestor
    for i in range(0, n, 2):
        above = index.ancestors(desc[i])
        if len(above):
            anc[i] = int(above[int(rng.integers(0, len(above)))])
    start = time.perf_counter()
    hits = sum(index.is_ancestor(a, d) for a, d in zip(anc, desc, strict=True))
    is_anc = time.perf_counter() - start
    start = time.perf_counter()
    total = 0
    for d in desc:
        total += len(index.ancestors(d))
    ancestors = time.perf_counter() - start
    print(f"is_ancestor()                    {_rate(n, is_anc)}  ({hits:,} true)")
    print(f"ancestors()                      {_rate(n, ancestors)}  ({total / n:.1f} per term)")
    batch = np.unique(np.asarray(desc[:1000], dtype=np.int32))
    pairs = _median(lambda: index.ancestor_pairs(batch), 5)
    print(f"ancestor_pairs(), {len(batch)} terms      {pairs * 1e3:10.2f} ms")


def _misspell(label: str, rng: np.random.Generator) -> str:
    """One edit inside a word: a doubled, dropped or replaced letter."""
    letters = [i for i, ch in enumerate(label) if ch.isalpha()]
    at = letters[int(rng.integers(1, len(letters)))]
    kind = int(rng.integers(0, 3))
    if kind == 0:
        return label[:at] + label[at] + label[at:]
    if kind == 1:
        return label[:at] + label[at + 1 :]
    replacement = "abcdefghijklmnopqrstuvwxyz"[int(rng.integers(0, 26))]
    return label[:at] + replacement + label[at + 1 :]


def bench_fuzzy(
    index: TermIndex, obo: Path, cache: Path, count: int, rng: np.random.Generator
) -> None:
    print(f"\n== fuzzy tier: {count} misspelled labels (one doubled, dropped or replaced letter)")
    live = [
        c
        for c in range(len(index))
        if not index.is_obsolete(c) and len(index.label(c)) >= 8 and index.label(c).isascii()
    ]
    picks = rng.choice(live, count, replace=False).tolist()
    cases = [(_misspell(index.label(c), rng), index.term_id(c)) for c in picks]
    fresh = TermIndex.load(obo, "HP", cache, sha256=index.sha256)
    start = time.perf_counter()
    fresh.resolve("Qwertyuiop zxcvbnm")  # builds the text tables and the fuzzy matcher
    setup = time.perf_counter() - start
    outcomes: Counter[str] = Counter()
    start = time.perf_counter()
    for text, expected in cases:
        found = fresh.resolve(text)
        if found is None:
            outcomes["no match (ambiguous or under the cutoff)"] += 1
        elif found.term_id != expected:
            outcomes[f"other term via {found.method}"] += 1
        else:
            outcomes[f"intended term via {found.method}"] += 1
    elapsed = time.perf_counter() - start
    start = time.perf_counter()
    for text, _ in cases[:100]:
        fresh.candidates(text)
    candidates = time.perf_counter() - start
    print(f"first use (tables + matcher)     {setup * 1e3:10.1f} ms")
    print(
        f"resolve(), misspellings          {_rate(count, elapsed)}  ({elapsed / count * 1e3:.2f} ms each)"
    )
    print(f"candidates(), limit 5            {_rate(100, candidates)}")
    for outcome, n in sorted(outcomes.items(), key=lambda item: -item[1]):
        print(f"  {outcome:<40} {n:5d}  {n / count:6.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--obo", type=Path, default=DEFAULT_OBO)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--misspellings", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory(prefix="bench-ontology-") as tmp:
        cache = Path(tmp)
        index = bench_load(args.obo, cache, args.repeat)
        bench_resolution(index, args.obo, cache, args.n, args.repeat, rng)
        bench_hierarchy(index, args.n, rng)
        bench_fuzzy(index, args.obo, cache, args.misspellings, rng)


if __name__ == "__main__":
    main()
