"""CPU time of each Great Expectations suite run of one small ingest, replayed warm.

Ingests one case template (default: AIRE from phenopacket-store, data docs off) while
recording the arguments of its five ``run_suite`` calls (the raw suite and four
harmonized ones), then replays each call ``--repeat`` times in the same warm process and
prints, per suite, the median and the minimum process CPU time of one run, and their sums.
Each replay must give the findings the ingest gave. With ``--errors`` the template gets
the deliberate errors of ``tests/pipeline/test_same_findings.py`` first. With
``--profile`` it prints the top functions (cProfile, CPU time) over all replays.
Nothing is asserted beyond the findings.

    .venv/bin/python bench/gx_suites.py [--template X.xlsx] [--repeat 50] [--errors] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TEMPLATE = ROOT / "tests/data/phenopacket-store/AIRE/input/AIRE_APS1_individuals.xlsx"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--template", type=Path, default=TEMPLATE)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--errors", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)

    from harmonize.pipeline import ingest
    from harmonize.quality import expectations
    from harmonize.settings import Settings

    calls: list[tuple[Any, Any, dict[str, Any], Any]] = []
    run_suite = expectations.run_suite

    def recording(suite: Any, table: Any, **kwargs: Any) -> Any:
        result = run_suite(suite, table, **kwargs)
        calls.append((suite, table, kwargs, result))
        return result

    workdir = Path(tempfile.mkdtemp(prefix="harmonize-gx-suites-"))
    template = args.template
    if args.errors:
        from tests.pipeline.test_same_findings import template_with_errors

        template = template_with_errors(workdir)
    expectations.run_suite = recording  # type: ignore[assignment]
    try:
        settings = Settings(
            workspace=workdir / "ws",
            ontology_cache=workdir / "cache",
            on_conflict="keep-observed",
            data_docs=False,
        )
        ingest(template, settings, profile="hpo-case-template")
    finally:
        expectations.run_suite = run_suite  # type: ignore[assignment]

    profiler = cProfile.Profile(time.process_time) if args.profile else None
    medians, minima = [], []
    print(f"{template.name}: each suite run {args.repeat} times warm; CPU ms per run")
    print(f"{'suite':34} {'rows':>5} {'findings':>8} {'median':>7} {'min':>7}")
    for suite, table, kwargs, first in calls:
        for _ in range(3):
            run_suite(suite, table, **kwargs)
        times = []
        for _ in range(args.repeat):
            cpu = time.process_time()
            if profiler:
                profiler.enable()
            result = run_suite(suite, table, **kwargs)
            if profiler:
                profiler.disable()
            times.append(time.process_time() - cpu)
        assert [f.model_dump() for f in result.findings] == [
            f.model_dump() for f in first.findings
        ], f"{suite}: the replay found something else"
        medians.append(statistics.median(times))
        minima.append(min(times))
        print(
            f"{suite:34} {table.num_rows:>5} {len(first.findings):>8} "
            f"{medians[-1] * 1000:>7.1f} {minima[-1] * 1000:>7.1f}"
        )
    print(
        f"{'all suites (sum)':34} {'':>5} {'':>8} {sum(medians) * 1000:>7.1f} {sum(minima) * 1000:>7.1f}"
    )
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
        print(out.getvalue())
    shutil.rmtree(workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
