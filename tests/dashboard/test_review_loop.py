"""The review queue end to end over HTTP: rejected -> decide in the browser -> re-run -> published."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harmonize.state.review import ReviewStore

from .conftest import CURATOR, SUBMITTER_A, csrf_of, make_env
from .pipeline_data import TYPOS_CSV, pipeline_settings, run, write_tabular


@pytest.mark.integration
@pytest.mark.slow
def test_curator_decides_in_the_dashboard_and_the_rerun_publishes(
    tmp_path: Path, ontology_cache: Path
) -> None:
    settings = pipeline_settings(tmp_path / "workspace", ontology_cache)
    env = make_env(settings.workspace, pipeline=settings)
    source = write_tabular(
        env.landing, "clinic-a-1", TYPOS_CSV, submitter="Clinic A", dataset="clinic-a"
    )
    assert run(source, settings).status == "rejected"

    assert env.client(SUBMITTER_A).get("/dashboard/review").status_code == 403
    client = env.client(CURATOR)
    page = client.get("/dashboard/review")
    items = dict(re.findall(r'data-item="(\d+)" data-raw="([^"]+)"', page.text))
    by_text = {text: int(i) for i, text in items.items()}
    assert set(by_text) == {"Macrocephally", "Hypotonnia", "blorptastic"}
    typo = page.text.split('data-raw="Macrocephally"')[1].split("</article>")[0]
    assert 'value="HP:0000256" id=' in typo and "checked" in typo  # best candidate first
    csrf = csrf_of(page.text)

    forged = client.post(
        f"/dashboard/review/{by_text['Macrocephally']}/accept", data={"term": "HP:0000256"}
    )
    assert forged.status_code == 403  # no CSRF token: nothing decided
    assert ReviewStore(settings.registry).item(by_text["Macrocephally"])["status"] == "open"

    accept = client.post(
        f"/dashboard/review/{by_text['Macrocephally']}/accept",
        data={"csrf": csrf, "term": "HP:0000256"},
    )
    assert accept.status_code == 303
    unknown = client.post(
        f"/dashboard/review/{by_text['Hypotonnia']}/accept",
        data={"csrf": csrf, "other": "HP:9999999"},
    )
    assert unknown.status_code == 400 and "not a HP term" in unknown.text
    picked = client.post(
        f"/dashboard/review/{by_text['Hypotonnia']}/accept",
        data={"csrf": csrf, "term": "HP:0000256", "other": "HP:0001252"},
    )
    assert picked.status_code == 303
    gone = client.post(
        f"/dashboard/review/{by_text['blorptastic']}/unmappable", data={"csrf": csrf}
    )
    assert gone.status_code == 303

    store = ReviewStore(settings.registry)
    decided = {d["raw_text"]: d for d in store.items(status=None)}
    assert decided["Hypotonnia"]["status"] == "accepted"
    assert decided["Hypotonnia"]["decided_by"] == "dr.curator"
    assert store.decision("clinic-a", "HP", "Hypotonnia")["term_id"] == "HP:0001252"
    assert store.decision("clinic-a", "HP", "blorptastic")["term_id"] is None

    queue = client.get("/dashboard/review").text
    assert 'data-testid="empty"' in queue and 'data-testid="rerun-clinic-a-1"' in queue
    rerun = client.post("/dashboard/submissions/clinic-a-1/rerun", data={"csrf": csrf})
    assert rerun.status_code == 303 and rerun.headers["location"].endswith("ran=published")
    detail = client.get(rerun.headers["location"]).text
    assert '<span class="status status-published">published</span>' in detail
    assert 'data-testid="drs-bundle"' in detail
    audit = client.get("/dashboard/audit").text
    assert audit.count("review.accept") == 2 and "review.unmappable" in audit
    assert "submission.rerun" in audit and "&#39;Hypotonnia&#39; -&gt; HP:0001252" in audit

    # a later submission of the dataset reuses the decisions: published without review
    later = write_tabular(
        env.landing,
        "clinic-a-2",
        TYPOS_CSV.replace("p1", "p3"),
        submitter="Clinic A",
        dataset="clinic-a",
    )
    assert run(later, settings).status == "published"
