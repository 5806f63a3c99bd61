"""Where one small ingest's time goes, phase by phase, cold and then warm in one process.

In one process, for one case template (default: AIRE from phenopacket-store):

1. the one-time costs, timed one after the other: importing the pipeline, importing
   Great Expectations (:func:`harmonize.quality.gx_import.import_gx`), its ephemeral
   context (:func:`harmonize.quality.expectations.batch_definition`);
2. ``--repeat`` + 1 ingests (``harmonize.pipeline.ingest``, data docs on, as the CLI),
   each into a new workspace that shares one compiled ontology cache. The first is the
   cold one; the others are warm. Each ingest runs under cProfile and under timers wrapped
   (in this process only) around: each suite's build (``gx_suite``), each suite's GX run
   (``Validator.validate_expectation_suite``), the translation of a result into findings,
   the Data Docs page, the mapping (``Profile.map_batch``), the documents
   (``build_documents``), the staged writes and the report and commit.

It prints wall and CPU seconds per phase (cold, then the warm median) and the warm
ingest's top functions by own CPU time. Nothing is asserted.

    .venv/bin/python bench/ingest_phases.py [--template X.xlsx] [--repeat 3] [--top 25]
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import io
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TEMPLATE = ROOT / "tests/data/phenopacket-store/AIRE/input/AIRE_APS1_individuals.xlsx"

Times = dict[str, list[float]]  # phase -> [wall, cpu]
_current: Times = defaultdict(lambda: [0.0, 0.0])


@contextmanager
def phase(name: str) -> Iterator[None]:
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        _current[name][0] += time.perf_counter() - wall
        _current[name][1] += time.process_time() - cpu


def wrap(owner: Any, attr: str, name: Callable[..., str]) -> None:
    """Time every call of ``owner.attr`` under the phase ``name(*args, **kwargs)``."""
    original = getattr(owner, attr)

    @functools.wraps(original)
    def timed(*args: Any, **kwargs: Any) -> Any:
        with phase(name(*args, **kwargs)):
            return original(*args, **kwargs)

    setattr(owner, attr, timed)


def instrument() -> None:
    from great_expectations.validator.v1_validator import Validator

    from harmonize import pipeline
    from harmonize.mapping import phenopackets
    from harmonize.mapping.profiles.case_template import CaseTemplateProfile
    from harmonize.publish import commit, stage
    from harmonize.quality import expectations

    wrap(expectations, "gx_suite", lambda name, *_: f"suite build {name}")
    wrap(Validator, "validate_expectation_suite", lambda _v, suite, **kw: f"GX run {suite.name}")
    wrap(expectations, "findings_from_result", lambda *a, **k: "GX result -> findings")
    wrap(expectations, "_write_data_docs", lambda *a, **k: "data docs page")
    wrap(expectations, "_frame", lambda *a, **k: "table -> pandas")
    wrap(CaseTemplateProfile, "map_batch", lambda *a, **k: "mapping (map_batch)")
    wrap(phenopackets, "build_documents", lambda *a, **k: "documents (build_documents)")
    wrap(stage.Stage, "write_tables", lambda *a, **k: "write staged tables")
    wrap(stage.Stage, "write_documents", lambda *a, **k: "write staged documents")
    wrap(pipeline, "save_report", lambda *a, **k: "write report")
    wrap(commit, "commit_staged", lambda *a, **k: "commit (tables, DRS, journal)")
    from harmonize.harmonizer import Harmonizer

    wrap(Harmonizer, "__init__", lambda *a, **k: "Harmonizer setup")
    from harmonize.quality.checks import Checker

    wrap(Checker, "raw", lambda *a, **k: "check-raw (all)")
    wrap(Checker, "harmonized", lambda *a, **k: "check harmonized (all)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--template", type=Path, default=TEMPLATE)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--no-data-docs", action="store_true")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="harmonize-phases-"))

    with phase("import harmonize.pipeline"):
        from harmonize.pipeline import ingest
        from harmonize.settings import Settings
    with phase("import great_expectations"):
        from harmonize.quality.gx_import import import_gx

        import_gx()
    with phase("GX context (batch_definition)"):
        from harmonize.quality.expectations import batch_definition

        batch_definition()
    once = dict(_current)
    _current.clear()
    instrument()

    runs: list[Times] = []
    profiles: list[cProfile.Profile] = []
    cache = workdir / "cache"
    for i in range(args.repeat + 1):
        settings = Settings(
            workspace=workdir / f"ws-{i}",
            ontology_cache=cache,
            on_conflict="keep-observed",
            data_docs=not args.no_data_docs,
        )
        profiler = cProfile.Profile()
        with phase("ingest (whole)"):
            profiler.enable()
            result = ingest(args.template, settings, profile="hpo-case-template")
            profiler.disable()
        print(f"ingest #{i}: {result.status} {result.message}", file=sys.stderr)
        runs.append({k: list(v) for k, v in _current.items()})
        profiles.append(profiler)
        _current.clear()
        shutil.rmtree(settings.workspace)

    print(f"{args.template.name}: one process; ingest #0 is cold (after the imports), ")
    print(f"warm = median of ingests #1..#{args.repeat}; seconds\n")
    print(f"{'phase':45} {'wall':>7} {'CPU':>7}")
    for name, (wall, cpu) in once.items():
        print(f"{name:45} {wall:>7.3f} {cpu:>7.3f}")
    print(f"\n{'phase':45} {'cold wall':>9} {'cold CPU':>9} {'warm wall':>9} {'warm CPU':>9}")
    names = sorted({n for r in runs for n in r}, key=lambda n: -runs[-1].get(n, [0, 0])[1])
    for name in names:
        cold = runs[0].get(name, [0.0, 0.0])
        warm = [r.get(name, [0.0, 0.0]) for r in runs[1:]]
        print(
            f"{name:45} {cold[0]:>9.3f} {cold[1]:>9.3f} "
            f"{statistics.median(w[0] for w in warm):>9.3f} "
            f"{statistics.median(w[1] for w in warm):>9.3f}"
        )
    out = io.StringIO()
    stats = pstats.Stats(profiles[-1], stream=out)
    stats.sort_stats("tottime").print_stats(args.top)
    print(f"\nlast warm ingest, top {args.top} functions by own time (cProfile):")
    print("\n".join(out.getvalue().splitlines()[6:]))
    out = io.StringIO()
    pstats.Stats(profiles[-1], stream=out).sort_stats("cumulative").print_stats(args.top * 2)
    print(f"\nlast warm ingest, top {args.top * 2} functions by cumulative time (cProfile):")
    print("\n".join(out.getvalue().splitlines()[6:]))
    shutil.rmtree(workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
