"""The fast path (harmonize.drs.fastlookup) answers anonymous lookups of live public blobs
outside FastAPI. Each test puts an app with it next to one without it (every request
through the routes) on the same registry, and asks both the same thing: the answers must
be the same bytes, headers and statuses, and the fast path must have answered only what
it may."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text, update

from harmonize.drs import fastlookup
from harmonize.drs.app import create_app
from harmonize.drs.fastlookup import FastPath
from harmonize.drs.models import DrsObjectRow
from tests.drs.conftest import Published, settings_for

API = "/ga4gh/drs/v1"
Pair = tuple[TestClient, TestClient, FastPath]


@pytest.fixture
def make_pair(published: Published) -> Iterator[Callable[..., Pair]]:
    """``(fast client, route-only client, the fast path's state)`` for settings overrides."""
    opened: list[TestClient] = []

    def make(**overrides: Any) -> Pair:
        settings = settings_for(published, **overrides)
        fast_app = create_app(settings)
        slow_app = create_app(settings, fast_lookups=False)
        assert slow_app.state.fast_lookups is None
        clients = (TestClient(fast_app), TestClient(slow_app))
        for client in clients:
            client.__enter__()
            opened.append(client)
        state: FastPath = fast_app.state.fast_lookups
        return clients[0], clients[1], state

    yield make
    for client in opened:
        client.__exit__(None, None, None)


def _same(fast: TestClient, slow: TestClient, method: str, path: str, **kwargs: Any) -> Any:
    """Both answers, which must agree in status, body and headers (but ``date``)."""
    one = fast.request(method, path, **kwargs)
    two = slow.request(method, path, **kwargs)
    assert (one.status_code, one.content) == (two.status_code, two.content), path
    assert {k: v for k, v in one.headers.items() if k != "date"} == {
        k: v for k, v in two.headers.items() if k != "date"
    }
    return one


SETTINGS = {
    "hostname only": {},
    "hostname and public URL": {"public_url": "https://drs.example.org/"},
    "links from the request": {"hostname": None},
    "no file URLs": {"expose_file_urls": False},
    "compact prefix": {"compact_prefix": "hz.drs"},
}


@pytest.mark.parametrize("overrides", SETTINGS.values(), ids=SETTINGS.keys())
def test_public_blobs_are_answered_as_the_route_answers(
    make_pair: Callable[..., Pair], published: Published, schemas: Any, overrides: Any
) -> None:
    fast, slow, state = make_pair(**overrides)
    for round_ in range(2):  # rendered, then kept
        for spec in published.specs:
            response = _same(fast, slow, "GET", f"{API}/objects/{spec.id}")
            assert response.status_code == 200
            schemas.check_drs_object(response.json())
            assert response.json()["size"] == spec.size
        assert state.stats.served == len(published.specs) * (round_ + 1)
    if overrides.get("compact_prefix"):
        spec = published.specs[0]
        response = _same(fast, slow, "GET", f"{API}/objects/hz.drs:{spec.id}")
        assert response.json()["id"] == spec.id
    host = {"host": "other.example.org:8443"}
    response = _same(fast, slow, "GET", f"{API}/objects/{published.specs[1].id}", headers=host)
    if "hostname" in overrides:  # links from the Host header when no hostname is set
        assert response.json()["self_uri"].startswith("drs://other.example.org:8443/")


def test_everything_else_is_left_to_the_routes(
    make_pair: Callable[..., Pair], published: Published, token: str, schemas: Any
) -> None:
    fast, slow, state = make_pair()
    blob = published.specs[1].id
    bearer = {"Authorization": f"Bearer {token}"}
    asks: list[tuple[str, str, dict[str, Any], int]] = [
        ("GET", f"{API}/objects/{published.controlled.id}", {}, 401),
        ("GET", f"{API}/objects/{published.controlled.id}", {"headers": bearer}, 200),
        ("GET", f"{API}/objects/{published.bundle.id}", {}, 200),
        ("GET", f"{API}/objects/{published.controlled_bundle.id}", {}, 401),
        ("GET", f"{API}/objects/hzdoesnotexist", {}, 401),
        ("GET", f"{API}/objects/{blob}", {"headers": {"Authorization": "Bearer junk"}}, 401),
        ("GET", f"{API}/objects/{blob}", {"headers": bearer}, 200),
        ("GET", f"{API}/objects/{blob}?expand=maybe", {}, 400),
        ("GET", f"{API}/objects/{blob}?expand=true", {}, 200),
        ("GET", f"{API}/objects/a%2Fdownload", {}, 400),
        ("GET", f"{API}/objects/{blob}%0A", {}, 401),  # the route: an unknown id
        ("GET", f"{API}/objects/{'x' * 256}", {}, 400),
        ("GET", f"{API}/objects/{blob}/", {"follow_redirects": False}, 307),
        ("HEAD", f"{API}/objects/{blob}", {}, 405),
        ("POST", f"{API}/objects/{blob}", {"json": {}}, 200),
        ("GET", f"{API}/objects/{blob}", {"content": b"{}"}, 200),
    ]
    for method, path, kwargs, status in asks:
        response = _same(fast, slow, method, path, **kwargs)
        assert response.status_code == status, (method, path, response.text)
        if status >= 400 and method != "HEAD":  # a HEAD answer has no body
            schemas.check_error(response, status)
    assert state.stats.served == 0


def test_a_withdrawn_object_is_refused_at_once(
    make_pair: Callable[..., Pair], published: Published, schemas: Any
) -> None:
    fast, slow, state = make_pair()
    spec = published.objects["P1.json"]
    assert fast.get(f"{API}/objects/{spec.id}").status_code == 200
    assert state.stats.served == 1
    with published.registry.transaction() as conn:
        published.registry.tombstone(conn, [spec.id], "withdrawn")  # as lifecycle.withdraw does
    body = schemas.check_error(_same(fast, slow, "GET", f"{API}/objects/{spec.id}"), 404)
    assert "was withdrawn" in body["msg"]
    assert state.stats.served == 1


def test_a_change_without_a_new_updated_time_shows_at_once(
    make_pair: Callable[..., Pair], published: Published
) -> None:
    """The kept JSON is keyed by every column it shows, not by updated_time alone (a
    migration moves files and sets versions without touching it)."""
    fast, slow, _ = make_pair()
    spec = published.objects["P1.json"]
    path = f"{API}/objects/{spec.id}"
    before = _same(fast, slow, "GET", path).json()
    moved = spec.path.replace("phenopackets/", "v1/phenopackets/")
    table = DrsObjectRow.__table__
    with published.registry.transaction() as conn:
        conn.execute(
            update(table).where(table.c.id == spec.id).values(path=moved, version="1")  # type: ignore[attr-defined]
        )
    after = _same(fast, slow, "GET", path).json()
    assert after["updated_time"] == before["updated_time"]
    assert before["version"] != "1" and after["version"] == "1"
    file_url = next(m["access_url"]["url"] for m in after["access_methods"] if m["type"] == "file")
    assert file_url.endswith("/submission%3Ds1/v1/phenopackets/P1.json")  # moved


@pytest.mark.integration
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # its kept connection
def test_a_lost_connection_is_dropped_then_reopened(
    make_pair: Callable[..., Pair],
    published: Published,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fast, _, state = make_pair()
    path = f"{API}/objects/{published.specs[1].id}"
    assert fast.get(path).status_code == 200
    rows = state.rows
    assert isinstance(rows, fastlookup._PostgresRows)
    backend = rows._conn.info.backend_pid
    with published.registry.transaction() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    response = fast.get(path)  # the read fails: the routes answer
    assert response.status_code == 200 and response.json()["id"] == published.specs[1].id
    assert (state.stats.failures, state.stats.served) == (1, 1)
    assert fast.get(path).status_code == 200  # still resting: the routes answer again
    assert state.stats.served == 1
    monkeypatch.setattr(fastlookup, "RETRY_AFTER", 0.0)
    state._off_until = 0.0
    assert fast.get(path).status_code == 200  # a new connection
    assert state.stats.served == 2
    assert rows._conn.info.backend_pid != backend
