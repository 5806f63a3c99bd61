"""The ontology-impact page reads the latest release diff, scoped to what the caller may see."""

from __future__ import annotations

import json

from .conftest import CURATOR, SUBMITTER_A, Env, add_submission


def impact(sid: str, pp: str, term: str = "HP:0000001") -> dict[str, object]:
    return {
        "submission_id": sid,
        "phenopacket_id": pp,
        "table": "phenotypic_features",
        "term_id": term,
        "term_label": "Old term",
        "change": "obsolete",
        "replacement": "HP:0000002",
        "new_label": "obsolete Old term",
        "consider": [],
        "source_file": "cases.csv",
        "source_row": 4,
        "source_column": "symptoms",
        "replacement_label": "New term",
    }


def test_impact_page_lists_publications_and_replacements(env: Env) -> None:
    add_submission(env, "mine")
    add_submission(env, "theirs", submitter="Clinic B", dataset="clinic-b")
    none = env.client(CURATOR).get("/dashboard/impact")
    assert none.status_code == 200 and "No release diff yet" in none.text
    document = {
        "generated_at": "2026-11-25T00:00:00+00:00",
        "prefix": "HP",
        "old": {"release": "2025-01-16"},
        "new": {"release": "2025-05-06"},
        "summary": {"changes": {"obsolete": 1, "merged": 0, "label": 0, "removed": 0}},
        "impacts": [impact("mine", "p1"), impact("mine", "p2"), impact("theirs", "q1")],
    }
    target = env.pipeline.reports_dir / "ontology-diff" / "latest.json"
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps(document))
    page = env.client(CURATOR).get("/dashboard/impact").text
    terms = page.split('data-testid="impact-terms"')[1].split("</table>")[0]
    assert "<code>HP:0000002</code> New term" in terms
    assert '<td class="num">3</td><td class="num">3</td>' in terms
    assert "<strong>3</strong> published rows" in page
    scoped = env.client(SUBMITTER_A).get("/dashboard/impact").text
    assert "<strong>2</strong> published rows" in scoped and "q1" not in scoped
