"""Harmonize against pyphetools 0.9.119 on phenopacket-store's case templates, side by side.

For each cohort template under ``--store`` (``*/input/*.xlsx``), in one run:

- **peer whole**: a fresh pyphetools process (``bench/peer_child.py whole``) that loads HPO
  and builds and writes the Phenopackets, timed from outside (process start included);
- **peer build**: pyphetools' build alone (read the template, encode, validate, write),
  in a process that has loaded HPO, after one warm-up build (``peer_child.py build``);
- **ours cold**: ``harmonize ingest FILE --profile hpo-case-template --on-conflict
  keep-observed`` as a fresh process into a new workspace whose ontology cache is compiled
  (``harmonize ontologies compile``), as a data centre's is; timed from outside;
- **ours warm**: in this long-lived process, after one warm-up, building the template's
  Phenopackets: ``Harmonizer`` read -> check-raw -> map -> check -> documents, the
  stages that correspond to pyphetools' build (publishing is not timed).

Each time is the median of ``--repeat`` runs. It prints them with the targets of issue
#14 (cold >= 3x faster than peer whole; warm >= 500x faster than peer build) and whether
each is met, and checks that both tools produce the same individuals (Phenopacket ids);
the exit status is non-zero when they differ or an ingest is not published. Nothing is
asserted on timings. Both tools get the same template: the submitter's fixes for what one
tool rejects and the other does not (rows without an ``individual_id``, :func:`preflight`;
HPO column labels misspelled, :func:`fix_labels`) are applied for both, and said.

The first run creates ``bench/.peer-venv`` (gitignored) and installs pyphetools 0.9.119
from PyPI into it; later runs reuse it. pyphetools reads HPO through hpotk, which loads
obographs JSON only: the pinned ``ontologies/hp-*.obo`` is converted offline with pronto's
obojson serializer (``bench/.peer-venv/hp-<sha>.json``). pyphetools' online step (the
VariantManager's calls to VariantValidator) is not run; see ``bench/peer_child.py``.

    .venv/bin/python bench/vs_peer.py [--repeat 3] [--cohort AIRE] [--store DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from peer_hpo import hp_json  # noqa: E402

PEER_VENV = ROOT / "bench" / ".peer-venv"
PEER_SPEC = "pyphetools==0.9.119"
STORE = ROOT.parent / "shared" / "data" / "phenopacket-store"
COLD_TARGET, WARM_TARGET = 3.0, 500.0


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def peer_python() -> Path:
    """The peer virtualenv's Python, with pyphetools installed the first time only."""
    python = PEER_VENV / "bin" / "python"
    probe = "import importlib.metadata as m; print(m.version('pyphetools'))"
    if python.is_file():
        done = subprocess.run([python, "-c", probe], capture_output=True, text=True)
        if done.returncode == 0 and done.stdout.strip() == PEER_SPEC.split("==")[1]:
            return python
    log(f"creating {PEER_VENV} and installing {PEER_SPEC} from PyPI (first run only)")
    uv = shutil.which("uv")
    if uv:
        subprocess.run([uv, "venv", "-q", "--python", sys.executable, PEER_VENV], check=True)
        subprocess.run([uv, "pip", "install", "-q", "--python", python, PEER_SPEC], check=True)
    else:
        subprocess.run([sys.executable, "-m", "venv", PEER_VENV], check=True)
        subprocess.run([python, "-m", "pip", "install", "-q", PEER_SPEC], check=True)
    return python


def timed(command: list[Any]) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Run ``command``: wall seconds, CPU seconds (user + system) and the process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    if done.returncode != 0:
        raise RuntimeError(f"{command[:3]} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds, cpu, done


def peer(python: Path, template: Path, hpo: Path, out: Path, repeat: int) -> dict[str, Any]:
    child = [python, ROOT / "bench" / "peer_child.py"]
    whole = []
    for _ in range(repeat):
        seconds, cpu, done = timed([*child, "whole", template, "--hp-json", hpo, "--out", out])
        whole.append((seconds, cpu))
    whole_ids = json.loads(done.stdout)["ids"]
    built = json.loads(
        timed([*child, "build", template, "--hp-json", hpo, "--out", out, "--repeat", str(repeat)])[
            2
        ].stdout
    )
    assert built["ids"] == whole_ids
    build = list(zip(built["build_s"], built["build_cpu_s"], strict=True))
    dropped = json.loads(done.stdout).get("dropped", {})
    return {"whole": whole, "build": build, "ids": set(whole_ids), "dropped": dropped}


def ours_cold(template: Path, cache: Path, workdir: Path, repeat: int) -> dict[str, Any]:
    harmonize = Path(sys.executable).parent / "harmonize"
    runs, ids = [], set()
    for i in range(repeat):
        ws = workdir / f"cold-{template.stem}-{i}"
        shutil.rmtree(ws, ignore_errors=True)
        shutil.copytree(cache, ws / "cache")
        command = [harmonize, "ingest", template, "--profile", "hpo-case-template"]
        seconds, cpu, _ = timed([*command, "--workspace", ws, "--on-conflict", "keep-observed"])
        runs.append((seconds, cpu))
        published = list((ws / "published" / "phenopackets").glob("*/v1/*.json"))
        ids = {json.loads(p.read_text())["id"] for p in published}
        shutil.rmtree(ws)
    return {"cold": runs, "ids": ids}


def ours_warm(template: Path, workdir: Path, cache: Path, repeat: int) -> dict[str, Any]:
    """Our build in this process: the first run warms it up and is not counted."""
    from harmonize.harmonizer import Harmonizer
    from harmonize.quality.collect import FindingCollector
    from harmonize.settings import Settings
    from harmonize.submission.receive import receive

    settings = Settings(
        workspace=workdir / "warm", ontology_cache=cache, on_conflict="keep-observed"
    )
    settings.workspace.mkdir(parents=True, exist_ok=True)
    submission = receive(
        template, profile="hpo-case-template", max_file_bytes=settings.max_file_bytes
    )
    runs, ids = [], set()
    for i in range(repeat + 1):
        findings = FindingCollector()
        started, cpu = time.perf_counter(), time.process_time()
        work = Harmonizer(submission, settings, findings)
        docs = [
            doc for file in submission.files for b in work.read(file) for doc in work.batch(b)[1]
        ]
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        if findings.count("error"):
            raise RuntimeError(f"{template.name}: our build found errors")
        if i:
            runs.append((seconds, cpu))
        ids = {doc["id"] for doc in docs}
    return {"warm": runs, "ids": ids}


def med(runs: list[tuple[float, float]], which: int) -> float:
    return statistics.median(run[which] for run in runs)


def report(rows: list[tuple[Any, ...]], repeat: int) -> None:
    """The table, once for wall seconds (the targets) and once for CPU seconds."""
    print(f"harmonize vs {PEER_SPEC}: median of {repeat}; x = how many times faster we are")
    met = {"cold": 0, "warm": 0}
    for which, unit in ((0, "wall"), (1, "CPU")):
        print(f"\n{unit} seconds")
        print(
            f"{'cohort':8} {'n':>4} {'peer whole':>10} {'ours cold':>9} {'x':>6}  "
            f"{'peer build':>10} {'ours warm':>9} {'x':>7}  same ids"
        )
        for name, n, theirs, cold, warm, same in rows:
            cold_x = med(theirs["whole"], which) / med(cold["cold"], which)
            warm_x = med(theirs["build"], which) / med(warm["warm"], which)
            if which == 0:
                met["cold"] += cold_x >= COLD_TARGET
                met["warm"] += warm_x >= WARM_TARGET
            print(
                f"{name:8} {n:>4} {med(theirs['whole'], which):>10.2f} "
                f"{med(cold['cold'], which):>9.2f} {cold_x:>6.2f}  "
                f"{med(theirs['build'], which):>10.3f} {med(warm['warm'], which):>9.3f} "
                f"{warm_x:>7.2f}  {'yes' if same else 'NO'}"
            )
    print()
    for kind, target, what in (("cold", COLD_TARGET, "whole"), ("warm", WARM_TARGET, "build")):
        verdict = "met" if met[kind] == len(rows) else "NOT met"
        print(
            f"target: ours {kind} >= {target:g}x faster than peer {what} (wall): "
            f"{verdict} ({met[kind]} of {len(rows)} cohorts)"
        )


def preflight(template: Path, workdir: Path, cache: Path) -> Path:
    """The template both tools get: as submitted, or without rows that have no individual_id.

    A template whose only errors are rows without an individual_id is rejected by us
    (pyphetools publishes them as ``PMID_..._nan``); as ``bench/accuracy.py`` does, both
    tools then get the submitter's fix, the template without those rows.
    """
    from accuracy import drop_rows_without_id

    from harmonize.pipeline import ingest
    from harmonize.settings import Settings

    workspace = workdir / f"preflight-{template.stem}"
    shutil.rmtree(workspace, ignore_errors=True)
    settings = Settings(workspace=workspace, ontology_cache=cache, on_conflict="keep-observed")
    result = ingest(template, settings, profile="hpo-case-template")
    if result.status == "rejected":
        fixed = drop_rows_without_id(template, result, workspace)
        if fixed is None:
            raise SystemExit(
                f"{template.name}: rejected ({result.message}); see {result.report_json}"
            )
        return fixed
    return template


def hpo_labels(hpo: Path) -> dict[str, str]:
    """The pinned HPO's primary label of each term, from the obographs JSON pyphetools reads."""
    nodes = json.loads(hpo.read_text())["graphs"][0]["nodes"]
    prefix = "http://purl.obolibrary.org/obo/HP_"
    return {
        "HP:" + n["id"][len(prefix) :]: n["lbl"]
        for n in nodes
        if n["id"].startswith(prefix) and n.get("lbl")
    }


def fix_labels(template: Path, labels: dict[str, str], workdir: Path) -> tuple[Path, list[str]]:
    """The template with each HPO column's header label spelled as the pinned HPO spells it.

    The case template names each HPO column twice: its label (row 1) and its id (row 2).
    When the label differs from the ontology's, pyphetools leaves out every individual with
    a value in that column (an unfixable ``MALFORMED_LABEL``); Harmonize takes the term by
    its id and warns. CHD8's template writes HP:5200018 "Steroetypic upper-extremity
    movements" (HPO: "Stereotypic ..."), so pyphetools kept 48 of 79 individuals. Both tools
    get the submitter's fix, as for rows without an id: the label as HPO spells it.
    """
    import openpyxl

    wb = openpyxl.load_workbook(template)
    ws = wb.active
    fixed = []
    for label, curie in zip(ws[1], ws[2], strict=False):
        want = labels.get(str(curie.value or "").strip())
        if want is not None and label.value != want:
            fixed.append(f"{curie.value} {label.value!r} -> {want!r}")
            label.value = want
    if not fixed:
        return template, []
    out = workdir / f"labels-{template.name}"
    wb.save(out)
    return out, fixed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--store", type=Path, default=STORE)
    parser.add_argument("--cohort", action="append", help="a cohort directory's name; repeatable")
    parser.add_argument("--workdir", type=Path, help="default: a new temporary directory")
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="harmonize-vs-peer-"))
    workdir.mkdir(parents=True, exist_ok=True)

    python = peer_python()
    hpo = hp_json(ROOT / "ontologies", PEER_VENV)
    cache = workdir / "cache"
    log(f"compiling our ontology indexes into {cache}")
    harmonize = Path(sys.executable).parent / "harmonize"
    timed([harmonize, "ontologies", "compile", "--cache-dir", cache])

    templates = sorted(args.store.glob("*/input/*.xlsx"))
    if args.cohort:
        templates = [t for t in templates if t.parent.parent.name in args.cohort]
    rows, mismatched = [], 0
    labels = hpo_labels(hpo)
    for submitted in templates:
        template = preflight(submitted, workdir, cache)
        template, fixed = fix_labels(template, labels, workdir)
        if fixed:
            log(f"{submitted.name}: both tools get HPO's labels for {'; '.join(fixed)}")
        log(f"{template.name}: pyphetools")
        theirs = peer(python, template, hpo, workdir / "peer-out", args.repeat)
        log(f"{template.name}: harmonize cold, then warm")
        cold = ours_cold(template, cache, workdir, args.repeat)
        warm = ours_warm(template, workdir, cache, args.repeat)
        same = theirs["ids"] == cold["ids"] == warm["ids"]
        if not same:
            mismatched += 1
            log(
                f"  ids differ: only pyphetools {sorted(theirs['ids'] - cold['ids'])[:5]}, "
                f"only ours {sorted(cold['ids'] - theirs['ids'])[:5]}; pyphetools left out "
                f"{json.dumps(dict(list(theirs['dropped'].items())[:3]))}"
            )
        name = submitted.parent.parent.name
        rows.append((name, len(theirs["ids"]), theirs, cold, warm, same))
        log(
            f"  {name}: peer whole {theirs['whole']}, build {theirs['build']}; ours cold "
            f"{cold['cold']}, warm {warm['warm']} (wall, CPU s); same ids: {same}"
        )

    report(rows, args.repeat)
    return 1 if mismatched else 0


if __name__ == "__main__":
    sys.exit(main())
