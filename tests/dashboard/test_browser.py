"""The dashboard in a real headless Chromium, driven by Playwright, over a real uvicorn server.

Walks through the list; a rejected submission's findings down to the offending cell; the
review queue (accept, re-run, published); the trend charts as SVG elements with data
points; the ontology-impact page; and a submitter who cannot open another submitter's
submission. A second walk: a submission's two published versions and what changed, then a
participant's withdrawal. Screenshots of each page go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harmonize.cli import app as cli
from harmonize.dashboard.local import serve_in_thread

from ..ontology.test_diff import OLD_OBO, _new_obo
from ..publish.test_versions import corrected
from .conftest import CURATOR, SUBMITTER_B, Env, add_submission, finding, make_env
from .pipeline_data import TYPOS_CSV, copy_sample, pipeline_settings, run, write_tabular

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def history(env: Env, n: int = 90) -> None:
    """A year of earlier submissions (hand-made reports) so the trends have a shape."""
    rng = random.Random(6)
    people = [
        ("Clinic A", "clinic-a"),
        ("Clinic B", "clinic-b"),
        ("Monarch Initiative curators", "phenopacket-store"),
    ]
    start = datetime.now(UTC) - timedelta(days=365)
    for i in range(n):
        submitter, dataset = people[i % 3]
        when = start + timedelta(days=365 * i / n + rng.uniform(0, 3))
        improving = i / n  # quality improves over the year
        rejected = rng.random() > 0.55 + 0.4 * improving
        found = [
            finding("missing-required-field", row=rng.randint(2, 90))
            for _ in range(rng.randint(1, 4) if rejected else 0)
        ] + [
            finding("inexact-term-match", "warning", column="symptoms")
            for _ in range(rng.randint(0, 3))
        ]
        weak = rng.randint(0, int(6 * (1 - improving)) + 1)
        add_submission(
            env,
            f"{dataset}-{when:%Y%m%d}-{i:02d}",
            status="rejected" if rejected else "published",
            submitter=submitter,
            dataset=dataset,
            findings=found,
            mappings=[{"method": "fuzzy", "score": 0.8}] * weak
            + [{"method": "label", "score": 1.0}] * 20,
            individuals=rng.randint(3, 60),
            received_at=when,
        )


@pytest.fixture
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: infra/install-system.sh installs it "
            "(Debian's chromium package); playwright never downloads a browser"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def shot(page: object, name: str, *, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = str(SHOTS / f"{name}.png")
    page.screenshot(path=path, full_page=full_page)  # type: ignore[attr-defined]


def sign_in(page: object, base: str, token: str) -> None:
    page.goto(f"{base}/dashboard/login")  # type: ignore[attr-defined]
    page.fill("#token", token)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(f"{base}/dashboard/submissions")  # type: ignore[attr-defined]


@pytest.mark.integration
@pytest.mark.slow
def test_dashboard_walkthrough_in_chromium(
    tmp_path: Path, ontology_cache: Path, submissions: Path, browser: object
) -> None:
    settings = pipeline_settings(tmp_path / "workspace", ontology_cache)
    env = make_env(settings.workspace, pipeline=settings)
    history(env)
    assert run(copy_sample(submissions, env.landing, "aire-aps1"), settings).status == "rejected"
    assert run(copy_sample(submissions, env.landing, "suox-isod"), settings).status == "published"
    typos = write_tabular(
        env.landing, "clinic-a-2026-11", TYPOS_CSV, submitter="Clinic A", dataset="clinic-a"
    )
    assert run(typos, settings).status == "rejected"
    theirs = write_tabular(
        env.landing,
        "clinic-b-2026-11",
        "id,sex,symptoms\nb1,f,Seizure\n",
        submitter="Clinic B",
        dataset="clinic-b",
        access="controlled",
    )
    assert run(theirs, settings).status == "published"

    with serve_in_thread(env.app) as base:
        context = browser.new_context(viewport={"width": 1360, "height": 900})  # type: ignore[attr-defined]
        page = context.new_page()
        sign_in(page, base, CURATOR)

        # 1. the list
        rows = page.locator("table[data-testid=submissions] tbody tr")
        assert rows.count() == 50  # one page of 94
        assert "94 submission versions" in page.inner_text("[data-testid=total]")
        aire = page.locator("tr[data-submission=aire-aps1]")
        assert "rejected" in aire.inner_text() and "58" in aire.inner_text()
        shot(page, "list", full_page=False)
        page.select_option("select[name=status]", "rejected")
        page.select_option("select[name=dataset]", "phenopacket-store")
        page.click("form.filters button")
        statuses = page.locator("table[data-testid=submissions] tbody td:nth-child(2)")
        assert set(statuses.all_inner_texts()) == {"rejected"}

        # 2. a rejected submission's findings, down to the offending cell
        page.goto(f"{base}/dashboard/submissions")
        page.click("tr[data-submission=aire-aps1] a")
        group = page.locator("article[data-category=excluded-ancestor]")
        assert group.locator(".count").inner_text() == "2"
        cell = group.locator("tr.example").first
        assert cell.locator("[data-testid=row]").inner_text() == "42"
        assert cell.locator("[data-testid=column]").inner_text() == "Alopecia universalis"
        assert cell.locator("[data-testid=value]").inner_text() == "HP:0002289"
        assert "AIRE_APS1_individuals.xlsx" in cell.inner_text()
        assert "Sheet1" in cell.inner_text()
        shot(page, "submission")

        # 3. the review queue: accept, pick another, mark unmappable, re-run, published
        page.click("nav >> text=Review queue")
        assert page.locator("article.review-item").count() == 3
        shot(page, "review")
        page.locator("article[data-raw=Macrocephally] [data-testid=accept]").click()
        hypo = page.locator("article[data-raw=Hypotonnia]")
        hypo.locator("input[name=other]").fill("HP:0001252")
        hypo.locator("[data-testid=accept]").click()
        page.locator("article[data-raw=blorptastic] [data-testid=unmappable]").click()
        assert page.locator("[data-testid=empty]").is_visible()
        page.click("[data-testid=rerun-clinic-a-2026-11]")
        page.wait_for_url("**/submissions/clinic-a-2026-11?ran=published")
        assert "published" in page.inner_text("[data-testid=ran]")
        assert page.locator("h1 .status").inner_text() == "published"
        assert page.locator("[data-testid=drs-bundle]").is_visible()
        shot(page, "published")

        # 4. the trend charts: SVG elements, one per data point
        page.click("nav >> text=Trends")
        points = page.locator("svg[data-chart=pass-rate] circle.point")
        assert points.count() >= 12
        values = [float(v) for v in points.evaluate_all("els => els.map(e => e.dataset.y)")]
        assert all(0.0 <= v <= 1.0 for v in values) and len(set(values)) > 1
        assert page.locator("svg[data-chart=volume] rect.point").count() >= 12
        tip = points.first.locator("title").text_content() or ""
        assert "%" in tip
        shot(page, "trends")

        # 5. ontology impact of a new release on what is published
        old, new = tmp_path / "hp-old.obo", tmp_path / "hp-new.obo"
        old.write_text(OLD_OBO, encoding="utf-8")
        new.write_text(_new_obo(), encoding="utf-8")
        diff = CliRunner().invoke(
            cli, ["ontologies", "diff", str(old), str(new), "-w", str(settings.workspace)]
        )
        assert diff.exit_code == 0, diff.output
        page.click("nav >> text=Ontology impact")
        terms = page.locator("table[data-testid=impact-terms]")
        assert "HP:0000256" in terms.inner_text() and "clinic-a-2026-11" in terms.inner_text()
        shot(page, "impact", full_page=False)
        page.click("nav >> text=Audit log")
        assert "submission.rerun" in page.inner_text("table[data-testid=audit]")
        page.click("header button:text('Sign out')")
        page.wait_for_url("**/dashboard/login")

        # 6. a submitter cannot open another submitter's submission
        sign_in(page, base, SUBMITTER_B)
        listed = page.locator("table[data-testid=submissions] tbody tr")
        assert all("Clinic B" in t for t in listed.all_inner_texts()), (
            "a submitter's list shows only their own submissions"
        )
        response = page.goto(f"{base}/dashboard/submissions/clinic-a-2026-11")
        assert response is not None and response.status == 404
        assert "no submission" in page.inner_text("[data-testid=error]")
        assert page.locator("nav >> text=Review queue").count() == 0
        shot(page, "denied")
        context.close()


@pytest.mark.integration
@pytest.mark.slow
def test_versions_and_a_withdrawal_in_chromium(
    tmp_path: Path, ontology_cache: Path, submissions: Path, browser: object
) -> None:
    settings = pipeline_settings(tmp_path / "workspace", ontology_cache)
    env = make_env(settings.workspace, pipeline=settings)
    v1 = copy_sample(submissions, env.landing, "suox-isod")
    assert run(v1, settings).status == "published"
    v2, _, _ = corrected(v1, tmp_path / "suox-isod-v2")
    assert run(v2, settings).status == "published"
    subject = "Proband 1 from PMID 9050047"

    with serve_in_thread(env.app) as base:
        context = browser.new_context(viewport={"width": 1360, "height": 900})  # type: ignore[attr-defined]
        page = context.new_page()
        sign_in(page, base, CURATOR)

        # 1. the submission's versions: v2 current, v1 superseded, what changed between them
        page.click("tr[data-submission=suox-isod] a")
        versions = page.locator("table[data-testid=published-versions] tbody tr")
        assert versions.count() == 2
        newest, oldest = versions.nth(0), versions.nth(1)
        assert "current" in newest.locator("[data-testid=version-state]").inner_text()
        assert "superseded by v2" in oldest.inner_text() and "first version" in oldest.inner_text()
        individuals = newest.locator("td[data-table=individuals]")
        assert individuals.get_attribute("data-removed") == "1"
        assert individuals.get_attribute("data-changed") == "1"
        assert "+0 \u22121 ~1" in individuals.inner_text()  # minus sign
        page.locator("table[data-testid=published-versions]").scroll_into_view_if_needed()
        shot(page, "versions")
        bundle = oldest.locator("[data-testid=version-bundle]").inner_text()
        response = page.goto(f"{base}/ga4gh/drs/v1/objects/{bundle}")
        assert response is not None and response.status == 401  # controlled: credentials first
        page.go_back()

        # 2. a participant withdraws: the curator uses the form
        page.click("nav >> text=Withdrawals")
        page.fill("#dataset", "phenopacket-store")
        page.fill("#subject", subject)
        page.fill("#reason", "consent withdrawn by email")
        page.check("input[name=confirm]")
        page.click("[data-testid=withdraw]")
        page.wait_for_url("**/dashboard/withdrawals/*?outcome=withdrawn")
        assert "Withdrawn" in page.inner_text("[data-testid=outcome]")
        assert page.inner_text("table[data-testid=rows-removed] td[data-table=individuals]") == "1"
        assert subject not in page.content()
        shot(page, "withdrawal")

        # 3. the audit log keeps the withdrawal's id and dataset, not the subject id
        page.click("nav >> text=Audit log")
        audit = page.inner_text("table[data-testid=audit]")
        assert "withdrawal/1" in audit and "phenopacket-store" in audit
        assert subject not in page.content()
        context.close()
