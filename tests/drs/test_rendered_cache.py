"""A blob's DrsObject JSON is kept per worker (by the fast path, harmonize.drs.fastlookup,
and by the route, harmonize.drs.service): it must never outlive a change of its row. Each
test asks first (so the JSON is kept), changes the row the way the pipeline does, and asks
again; the first one with and without the fast path."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from harmonize.drs import service
from harmonize.drs.app import create_app
from tests.drs.conftest import settings_for

API = "/ga4gh/drs/v1"


@pytest.fixture(params=["fast path", "route"])
def either_client(request: pytest.FixtureRequest, published: Any) -> Iterator[TestClient]:
    app = create_app(settings_for(published), fast_lookups=request.param == "fast path")
    with TestClient(app) as client:
        yield client


def _kept(client: TestClient, object_id: str) -> bool:
    fast = client.app.state.fast_lookups  # type: ignore[attr-defined]
    kept = fast._rendered if fast is not None else service._rendered
    return any(key[0][0] == object_id for key in kept)


def test_a_withdrawn_object_is_refused_after_it_was_served(
    either_client: TestClient, published: Any, schemas: Any
) -> None:
    client = either_client
    spec = published.objects["P1.json"]
    first = client.get(f"{API}/objects/{spec.id}")
    assert first.status_code == 200, first.text
    assert client.get(f"{API}/objects/{spec.id}").json() == first.json()
    assert _kept(client, spec.id)
    with published.registry.transaction() as conn:
        published.registry.tombstone(conn, [spec.id], "withdrawn")  # as lifecycle.withdraw does
    body = schemas.check_error(client.get(f"{API}/objects/{spec.id}"), 404)
    assert "was withdrawn" in body["msg"]
    schemas.check_error(client.get(f"{API}/objects/{spec.id}/download"), 404)


def test_a_metadata_edit_shows_at_once(client: TestClient, published: Any, schemas: Any) -> None:
    spec = published.objects["P1.json"]
    before = client.get(f"{API}/objects/{spec.id}").json()
    assert before["name"] == "P1.json"
    published.registry.update_metadata(spec.id, {"name": "renamed.json", "description": "new"})
    after = client.get(f"{API}/objects/{spec.id}").json()
    schemas.check_drs_object(after)
    assert (after["name"], after["description"]) == ("renamed.json", "new")
    assert after["updated_time"] != before["updated_time"]


def test_kept_json_is_the_response_models(client: TestClient, published: Any) -> None:
    """The route writes the JSON itself; it is what FastAPI wrote from the response model."""
    from harmonize.drs.schemas import DrsObject

    for spec in published.specs:
        response = client.get(f"{API}/objects/{spec.id}")
        assert response.headers["content-type"] == "application/json"
        model = DrsObject.model_validate(response.json())
        assert response.json() == model.model_dump(mode="json", exclude_none=True)
        assert None not in response.json().values()


def test_the_links_are_part_of_the_key(make_client: Any, published: Any) -> None:
    """Two services (or two Host headers) in one process never share a rendering."""
    spec = published.objects["P1.json"]
    one = make_client(hostname="one.example.org").get(f"{API}/objects/{spec.id}").json()
    two = make_client(hostname="two.example.org").get(f"{API}/objects/{spec.id}").json()
    assert one["self_uri"] == f"drs://one.example.org/{spec.id}"
    assert two["self_uri"] == f"drs://two.example.org/{spec.id}"
