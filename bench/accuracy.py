"""Accuracy of ``hpo-case-template`` against the curators' phenopackets (phenopacket-store).

For every cohort under ``../shared/data/phenopacket-store/<GENE>/input/*.xlsx`` this ingests
the spreadsheet and compares each published Phenopacket with the curated one of the same id:

- precision and recall of (subject, HPO id, excluded) triples, judged by implication over
  HPO's is_a (an observed term implies its ancestors; an excluded term implies its
  descendants are excluded), since the curators' tool removed redundant terms differently;
- sex, disease and onset agreement;
- how many published Phenopackets break the annotation propagation rule (target 0).

The ingest runs with ``on_conflict=keep-observed``: an observed term whose ancestor is
excluded keeps the observation and drops the exclusion, as the curators' tool did.

    uv run python bench/accuracy.py [--store DIR] [--show-differences]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harmonize.ontology import Ontologies  # noqa: E402
from harmonize.pipeline import ingest  # noqa: E402
from harmonize.settings import Settings  # noqa: E402

Triple = tuple[str, str, bool]


def features(doc: dict[str, Any], hpo: Any) -> set[tuple[str, bool]]:
    out = set()
    for f in doc.get("phenotypicFeatures", []):
        tid = f["type"]["id"]
        code = hpo.code(tid)
        if code is not None and hpo.is_obsolete(code) and hpo.replaced_by(code):
            tid = hpo.replaced_by(code)
        elif code is not None:
            tid = hpo.term_id(code)
        out.add((tid, bool(f.get("excluded", False))))
    return out


def implied(statement: tuple[str, bool], others: set[tuple[str, bool]], hpo: Any) -> bool:
    """Whether ``others`` imply ``statement``."""
    tid, excluded = statement
    if statement in others:
        return True
    code = hpo.code(tid)
    if code is None:
        return False
    for oid, oexc in others:
        if oexc != excluded:
            continue
        ocode = hpo.code(oid)
        if ocode is None:
            continue
        # observed descendant implies observed ancestor; excluded ancestor implies excluded descendant
        if (not excluded and hpo.is_ancestor(code, ocode)) or (
            excluded and hpo.is_ancestor(ocode, code)
        ):
            return True
    return False


def breaks_propagation(doc: dict[str, Any], hpo: Any) -> bool:
    """Whether a Phenopacket breaks the annotation propagation rule, as phenopacket-tools
    checks it: an observed term with an observed or excluded ancestor, or an excluded term
    with an excluded descendant (obsolete and unknown ids are skipped, as it does)."""
    observed, excluded = set(), set()
    for f in doc.get("phenotypicFeatures", []):
        code = hpo.code(f["type"]["id"])
        if code is None or hpo.is_obsolete(code):
            continue
        (excluded if f.get("excluded") else observed).add(code)
    for term in observed:
        if any(hpo.is_ancestor(a, term) for a in (observed | excluded) - {term}):
            return True
    return any(hpo.is_ancestor(a, d) for a in excluded for d in excluded - {a})


def onset(doc: dict[str, Any]) -> str | None:
    for d in doc.get("diseases", []):
        o = d.get("onset") or {}
        if "age" in o:
            return str(o["age"]["iso8601duration"])
        if "ontologyClass" in o:
            return str(o["ontologyClass"]["id"])
    return None


def diseases(doc: dict[str, Any]) -> set[str]:
    return {d["term"]["id"] for d in doc.get("diseases", [])}


def drop_rows_without_id(xlsx: Path, result: Any, workspace: Path) -> Path | None:
    """The submitter's fix for a report whose only errors are rows without individual_id."""
    import openpyxl

    report = json.loads(result.report_json.read_text())
    errors = [f for f in report["findings"] if f["level"] == "error"]
    if not errors or any(
        f["location"].get("column") not in ("individual_id", "phenopacket_id", "subject_id")
        for f in errors
    ):
        return None
    rows = sorted({f["location"]["row"] for f in errors}, reverse=True)
    print(
        f"   {xlsx.name}: rejected as submitted ({len(errors)} errors: row(s) "
        f"{sorted(rows)} have no individual_id); measuring the file without those rows"
    )
    wb = openpyxl.load_workbook(xlsx)
    for r in rows:
        wb.active.delete_rows(r)
    out = workspace.parent / f"fixed-{xlsx.name}"
    wb.save(out)
    return out


def compare(cohort: Path, workspace: Path, hpo: Any, show: bool) -> dict[str, Any]:
    xlsx = next((cohort / "input").glob("*.xlsx"))
    settings = Settings(workspace=workspace, on_conflict="keep-observed", data_docs=False)
    result = ingest(xlsx, settings, profile="hpo-case-template")
    as_submitted = result.status
    if result.status == "rejected":
        fixed = drop_rows_without_id(xlsx, result, workspace)
        if fixed is not None:
            result = ingest(fixed, settings, profile="hpo-case-template")
    gold = {}
    for p in (cohort / "phenopackets").glob("*.json"):
        doc = json.loads(p.read_text())
        gold[doc["id"]] = doc
    ours = {}
    # the version just published (or found published): published/phenopackets/<sid>/v<N>/
    out_dir = workspace / "published" / "phenopackets" / result.submission_id
    out_dir = out_dir / f"v{result.version}"
    if result.ok and not any(out_dir.glob("*.json")):
        raise SystemExit(f"{cohort.name}: {result.status}, but no Phenopackets in {out_dir}")
    if out_dir.is_dir():
        for p in out_dir.glob("*.json"):
            doc = json.loads(p.read_text())
            ours[doc["id"]] = doc
    matched = sorted(set(gold) & set(ours))
    propagation = sum(breaks_propagation(doc, hpo) for doc in ours.values())
    tp_p = n_p = tp_r = n_r = pruned = 0
    sex = dis = ons = ons_n = 0
    diffs: list[str] = []
    for pid in matched:
        g, o = features(gold[pid], hpo), features(ours[pid], hpo)
        for st in o:
            n_p += 1
            if implied(st, g, hpo):
                tp_p += 1
            elif st[1] and any(
                hpo.is_ancestor(hpo.code(st[0]), hpo.code(x[0]))
                for x in g
                if x[1] and x != st and hpo.code(x[0]) is not None
            ):
                # the curators kept a more specific exclusion, which ours implies
                pruned += 1
                diffs.append(f"{pid}: ours only {st} [gold dropped this general exclusion]")
            else:
                diffs.append(f"{pid}: ours only {st}")
        for st in g:
            n_r += 1
            if implied(st, o, hpo):
                tp_r += 1
            else:
                diffs.append(f"{pid}: gold only {st}")
        gsex = gold[pid]["subject"].get("sex", "UNKNOWN_SEX")  # proto3 JSON omits the default
        osex = ours[pid]["subject"].get("sex", "UNKNOWN_SEX")
        sex += gsex == osex
        if gsex != osex:
            diffs.append(f"{pid}: sex gold {gsex} ours {osex}")
        dis += diseases(gold[pid]) == diseases(ours[pid])
        go, oo = onset(gold[pid]), onset(ours[pid])
        if go or oo:
            ons_n += 1
            ons += go == oo
            if go != oo:
                diffs.append(f"{pid}: disease onset gold {go} ours {oo}")
    n = len(matched) or 1
    row = {
        "cohort": cohort.name,
        "status": result.status,
        "gold": len(gold),
        "ours": len(ours),
        "matched": len(matched),
        "precision": tp_p / n_p if n_p else 1.0,
        "recall": tp_r / n_r if n_r else 1.0,
        "sex": sex / n,
        "disease": dis / n,
        "onset": ons / ons_n if ons_n else 1.0,
        "missing": sorted(set(gold) - set(ours)),
        "extra": sorted(set(ours) - set(gold)),
        "warnings": result.findings.get("warning", 0),
        "pruned": pruned,
        "precision_excl_pruned": (tp_p + pruned) / n_p if n_p else 1.0,
        "as_submitted": as_submitted,
        "propagation": propagation,
    }
    if show:
        for d in diffs:
            print("   ", d)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--store", type=Path, default=ROOT.parent / "shared/data/phenopacket-store")
    parser.add_argument("--show-differences", action="store_true")
    args = parser.parse_args()
    cohorts = sorted(p for p in args.store.iterdir() if (p / "input").is_dir())
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(workspace=Path(tmp))
        hpo = Ontologies.load(settings.ontologies_dir, settings.cache_dir).get("HP")
        header = f"{'cohort':8} {'submitted':9} {'gold':>5} {'ours':>5} {'match':>5} {'prec':>6} {'recall':>6} {'sex':>6} {'disease':>7} {'onset':>6} {'APR-breaking':>12}"
        print(header)
        rows = []
        for cohort in cohorts:
            row = compare(cohort, Path(tmp) / cohort.name, hpo, args.show_differences)
            rows.append(row)
            print(
                f"{row['cohort']:8} {row['as_submitted']:9} {row['gold']:5} {row['ours']:5} {row['matched']:5} "
                f"{row['precision']:6.3f} {row['recall']:6.3f} {row['sex']:6.1%} {row['disease']:7.1%} "
                f"{row['onset']:6.1%} {row['propagation']:12}"
            )
            if row["pruned"]:
                print(
                    f"   {row['pruned']} of our exclusions are general terms the curators' tool "
                    f"dropped (precision without them: {row['precision_excl_pruned']:.3f})"
                )
            if row["missing"] or row["extra"]:
                print(f"   missing {row['missing'][:5]} extra {row['extra'][:5]}")
    worst_p = min(r["precision_excl_pruned"] for r in rows)
    worst_r = min(r["recall"] for r in rows)
    print(
        f"\nlowest implied precision {worst_p:.3f} (our general exclusions where the curators' "
        f"tool kept a more specific one count as implied; as printed: "
        f"{min(r['precision'] for r in rows):.3f}), lowest recall {worst_r:.3f} "
        "(target >= 0.99); "
        f"sex agreement min {min(r['sex'] for r in rows):.1%}, disease min "
        f"{min(r['disease'] for r in rows):.1%} (target 100%)"
    )
    print(
        f"published Phenopackets breaking the annotation propagation rule: "
        f"{sum(r['propagation'] for r in rows)} (target 0)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
