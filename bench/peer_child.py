"""pyphetools' side of ``bench/vs_peer.py``: run with the peer virtualenv's Python, never ours.

It does what ``pyphetools.creation.TemplateImporter.import_phenopackets_from_template``
does (pyphetools 0.9.119), in the same order, without its online step: the
``VariantManager``, which sends every allele to VariantValidator's web API. So:

1. load HPO with ``HpoParser(hpo_json_file=...)`` (hpotk) and build its concept recognizer;
2. the build: ``pd.read_excel`` of the template, ``CaseTemplateEncoder(...).get_individuals()``,
   ``CohortValidator(..., min_hpo=1)`` (lenient on the mode of inheritance, as without
   variants it cannot be judged) and ``output_individuals_as_phenopackets`` to ``--out``.

``whole`` does 1 and 2 once (``bench/vs_peer.py`` times the process from outside).
``build`` does 1, then 2 ``--repeat`` + 1 times and times each build but the first (the
warm-up). Both print one JSON line: the Phenopacket ids written, the individuals pyphetools left
out with their unfixable errors (``dropped``) and the build times (wall and CPU seconds).

    bench/.peer-venv/bin/python bench/peer_child.py whole|build TEMPLATE --hp-json J --out DIR
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import shutil
import sys
import time
from pathlib import Path

ORCID = "0000-0002-0736-9199"  # a curator's ORCID, as TemplateImporter requires one


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("whole", "build"))
    parser.add_argument("template", type=Path)
    parser.add_argument("--hp-json", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import pandas as pd
    from pyphetools.creation import CaseTemplateEncoder, HpoParser
    from pyphetools.validation import CohortValidator

    chatter = io.StringIO()  # pyphetools prints as it goes; keep stdout for the result
    with contextlib.redirect_stdout(chatter):
        hpo = HpoParser(hpo_json_file=str(args.hp_json))
        recognizer = hpo.get_hpo_concept_recognizer()
        ontology = hpo.get_ontology()

        dropped: dict[str, list[str]] = {}  # left out by pyphetools: id -> its unfixable errors

        def build() -> tuple[float, float, list[str]]:
            shutil.rmtree(args.out, ignore_errors=True)
            started, cpu = time.perf_counter(), time.process_time()
            df = pd.read_excel(args.template)
            encoder = CaseTemplateEncoder(
                df=df, hpo_cr=recognizer, created_by=f"ORCID:{ORCID}", hpo_ontology=ontology
            )
            individuals = encoder.get_individuals()
            validator = CohortValidator(cohort=individuals, ontology=ontology, min_hpo=1)
            kept = validator.get_error_free_individual_list()
            encoder.output_individuals_as_phenopackets(individual_list=kept, outdir=str(args.out))
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            dropped.clear()
            for vi in validator.get_validated_individuals_with_unfixable_errors():
                pid = vi.get_individual_with_clean_terms().get_phenopacket_id()
                dropped[pid] = sorted(
                    {f"{e.category}: {e.message}" for e in vi.get_unfixed_errors()}
                )
            return seconds, cpu, sorted(i.get_phenopacket_id() for i in kept)

        runs = [build() for _ in range(1 if args.mode == "whole" else args.repeat + 1)]
    if args.mode == "build":
        runs = runs[1:]
    written = sorted(p.stem for p in args.out.glob("*.json"))
    print(
        json.dumps(
            {
                "ids": runs[-1][2],
                "dropped": dropped,
                "files": len(written),
                "build_s": [seconds for seconds, _, _ in runs],
                "build_cpu_s": [cpu for _, cpu, _ in runs],
                "hpo_version": ontology.version,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
