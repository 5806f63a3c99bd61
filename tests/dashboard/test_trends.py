"""Trend aggregates and their SVG charts, from hand-made submissions with known numbers."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from .conftest import CURATOR, SUBMITTER_A, Env, add_submission, finding

WEAK = [{"method": "fuzzy", "score": 0.8}, {"method": "label", "score": 1.0}]


def points(html: str, chart: str) -> dict[tuple[str, str], float]:
    svg = html.split(f'data-chart="{chart}"')[1].split("</svg>")[0]
    found = re.findall(r'data-series="([^"]*)" data-x="([^"]*)" data-y="([^"]*)"', svg)
    return {(s, x): float(y) for s, x, y in found}


def seed(env: Env) -> None:
    jan, feb = datetime(2026, 1, 10, tzinfo=UTC), datetime(2026, 2, 10, tzinfo=UTC)
    add_submission(env, "j1", received_at=jan, individuals=10, mappings=WEAK)
    add_submission(
        env,
        "j2",
        status="rejected",
        received_at=jan,
        individuals=2,
        findings=[finding("unmapped-term"), finding("unmapped-term")],
    )
    add_submission(env, "j3", received_at=jan, dataset="clinic-x", submitter="Clinic X")
    add_submission(env, "f1", received_at=feb, individuals=7, findings=[finding("x", "warning")])


def test_trend_charts_have_one_element_per_data_point(env: Env) -> None:
    seed(env)
    page = env.client(CURATOR).get("/dashboard/trends")
    assert page.status_code == 200
    rate = points(page.text, "pass-rate")
    assert rate == {
        ("clinic-a", "2026-01"): 0.5,
        ("clinic-a", "2026-02"): 1.0,
        ("clinic-x", "2026-01"): 1.0,
    }
    volume = points(page.text, "volume")
    assert volume[("clinic-a", "2026-01")] == 2 and volume[("clinic-a", "2026-02")] == 1
    assert points(page.text, "individuals")[("clinic-a", "2026-01")] == 12
    # j1: 1 weak of 2 mapped; j2: 2 unmapped of 2 -> 3 of 4
    assert points(page.text, "weak-terms")[("clinic-a", "2026-01")] == 0.75
    rates = points(page.text, "finding-rates")
    assert abs(rates[("unmapped-term", "2026-01")] - 2 / 3) < 1e-5  # 2 findings, 3 submissions
    assert rates[("x", "2026-02")] == 1.0
    assert "<title>clinic-a, 2026-01: 50%</title>" in page.text
    by_submitter = points(env.client(CURATOR).get("/dashboard/trends?by=submitter").text, "volume")
    assert set(s for s, _ in by_submitter) == {"Clinic A", "Clinic X"}


def test_trends_are_scoped_and_filtered(env: Env) -> None:
    seed(env)
    mine = points(env.client(SUBMITTER_A).get("/dashboard/trends").text, "volume")
    assert {s for s, _ in mine} == {"clinic-a"}  # Clinic X's submission is not counted
    feb = env.client(CURATOR).get("/dashboard/trends?since=2026-02-01")
    assert set(points(feb.text, "volume")) == {("clinic-a", "2026-02")}
    assert env.client(CURATOR).get("/dashboard/trends?by=colour").status_code == 400


def test_status_changes_reach_the_trends(env: Env) -> None:
    seed(env)
    client = env.client(CURATOR)
    assert points(client.get("/dashboard/trends").text, "pass-rate")[("clinic-a", "2026-01")] == 0.5
    store = env.store
    sha = store.versions("j2")[0]["manifest_sha256"]
    store.set_status("j2", sha, "published")
    env.app.state.dashboard.refresh.interval = 0.0
    assert points(client.get("/dashboard/trends").text, "pass-rate")[("clinic-a", "2026-01")] == 1.0
