"""The per-client query budget is one budget across worker processes and app instances.

It lives in the registry database (``beacon_budget``): each query is one atomic upsert, so
two apps (two workers) on one registry spend from the same counter, and concurrent spends
are never lost.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from harmonize.db import upgrade
from harmonize.discovery.beacon.config import BeaconSettings
from harmonize.discovery.beacon.privacy import Budget, BudgetUnavailable, budget_table
from tests.discovery.kit import bearer, client

API = "/ga4gh/beacon/v2"


def test_two_apps_on_one_registry_share_a_budget(store: Any, beacon_schemas: Any) -> None:
    """Before, each worker kept its own counter: N workers let a client spend N budgets."""
    settings = BeaconSettings(recheck_seconds=0, budget_queries=3, budget_window_seconds=3600)
    first, second = client(store.settings, settings), client(store.settings, settings)
    token = bearer("aire")  # a client of its own: no other test spends from its budget
    answers = [
        app.get(f"{API}/individuals", headers=token).status_code
        for app in (first, second, first, second, first, second)
    ]
    assert answers == [200, 200, 200, 429, 429, 429]
    refused = second.get(f"{API}/individuals", headers=token)
    beacon_schemas.response(refused.json())
    assert "at most 3 queries per 3600 s" in refused.json()["error"]["errorMessage"]
    # another client still has its whole budget, on either app
    assert second.get(f"{API}/individuals", headers=bearer("suox")).status_code == 200


def test_concurrent_spends_from_two_processes_are_never_lost(database_url: str) -> None:
    """Two engines (as two workers hold) spend 40 queries at once against a budget of 25."""
    engines = [create_engine(database_url) for _ in range(2)]
    upgrade(engines[0])
    budgets = [Budget(engine, 25, 60) for engine in engines]
    try:
        with ThreadPoolExecutor(8) as pool:
            allowed = list(pool.map(lambda n: budgets[n % 2].spend("c", now=120.0), range(40)))
        assert allowed.count(True) == 25
        with engines[1].connect() as conn:
            rows = conn.execute(select(budget_table)).all()
        assert [(r.client, r.window_start, r.spent) for r in rows] == [("c", 120, 40)]
        # the next window starts afresh and sweeps the windows gone by
        assert budgets[0].spend("c", now=180.0)
        with engines[1].connect() as conn:
            assert [tuple(r) for r in conn.execute(select(budget_table))] == [("c", 180, 1)]
    finally:
        for engine in engines:
            engine.dispose()


def test_an_unreachable_budget_refuses_the_query(tmp_path: Any) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'missing' / 'registry.sqlite'}")
    with pytest.raises(BudgetUnavailable):
        Budget(engine, 5, 60).spend("c")
    assert Budget(engine, 0, 60).spend("c")  # no budget: the database is not asked
