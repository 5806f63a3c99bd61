"""The submission state and review stores behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harmonize.state.review import ReviewStore
from harmonize.state.store import StateStore

SHA_1 = "a" * 64
SHA_2 = "b" * 64


@pytest.fixture
def state(database_url: str) -> Iterator[StateStore]:
    store = StateStore(database_url)
    yield store
    store.engine.dispose()


@pytest.fixture
def reviews(database_url: str) -> Iterator[ReviewStore]:
    store = ReviewStore(database_url)
    yield store
    store.engine.dispose()


def test_state_walk_and_history(state: StateStore) -> None:
    state.set_status("s1", SHA_1, "received", submitter="lab", dataset="demo")
    state.set_status("s1", SHA_1, "processing", detail="read 3 files")
    state.set_status("s1", SHA_1, "published", bundle_id="hzb1", stats={"rows": 3})
    row = state.get("s1", SHA_1)
    assert row is not None
    assert (row["status"], row["submitter"], row["bundle_id"]) == ("published", "lab", "hzb1")
    assert row["stats"] == {"rows": 3}
    assert row["updated_at"] >= row["received_at"]
    history = state.history("s1")
    assert [event["status"] for event in history] == ["received", "processing", "published"]
    assert history[1]["detail"] == "read 3 files"
    assert [event["seq"] for event in history] == sorted(event["seq"] for event in history)


def test_versions_are_kept_apart(state: StateStore) -> None:
    state.set_status("s1", SHA_1, "published")
    state.set_status("s1", SHA_2, "rejected", report_path="reports/s1.html")
    state.set_status("s2", SHA_1, "received")
    versions = {row["manifest_sha256"]: row["status"] for row in state.versions("s1")}
    assert versions == {SHA_1: "published", SHA_2: "rejected"}
    assert state.get("s2", SHA_2) is None
    assert [(row["id"], row["manifest_sha256"]) for row in state.list()] == [
        ("s1", SHA_1),
        ("s1", SHA_2),
        ("s2", SHA_1),
    ]


def test_review_items_and_decisions(reviews: ReviewStore) -> None:
    candidates = [{"id": "HP:0000256", "label": "Macrocephaly", "score": 0.81}]
    first = reviews.add(
        dataset="demo",
        ontology="hp",
        text="Macro  CEPHALLY",
        submission_id="s1",
        location={"file": "a.csv", "row": 3},
        candidates=candidates,
    )
    again = reviews.add(
        dataset="demo",
        ontology="hp",
        text="macro cephally",
        submission_id="s2",
        location={"file": "b.csv", "row": 9},
        candidates=candidates,
    )
    other = reviews.add(
        dataset="other",
        ontology="hp",
        text="macro cephally",
        submission_id="s3",
        location={},
        candidates=[],
    )
    assert first == again != other
    item = reviews.item(first)
    assert item is not None
    assert (item["submission_id"], item["location"]) == ("s2", {"file": "b.csv", "row": 9})
    assert [row["id"] for row in reviews.items(dataset="demo")] == [first]
    reviews.decide(first, term_id="HP:0000256", label="Macrocephaly", by="curator")
    decision = reviews.decision("demo", "hp", "MACRO cephally")
    assert decision is not None and decision["term_id"] == "HP:0000256"
    assert reviews.decision("other", "hp", "macro cephally") is None
    assert [row["id"] for row in reviews.items()] == [other]
    assert [row["status"] for row in reviews.items(status="accepted")] == ["accepted"]
    reviews.decide(first, term_id=None, label=None, by="curator")  # changed their mind
    changed = reviews.decision("demo", "hp", "macro cephally")
    assert changed is not None and changed["term_id"] is None
    assert [row["id"] for row in reviews.items(status="unmappable")] == [first]


@pytest.mark.parametrize("item_id", [0, -1, 2**63, 10**30])
def test_an_id_no_item_can_have_is_not_found(reviews: ReviewStore, item_id: int) -> None:
    """Schemathesis found: ``POST /dashboard/review/10**30/accept`` answered 500
    (OverflowError: Python int too large to convert to SQLite INTEGER)."""
    assert reviews.item(item_id) is None
    with pytest.raises(KeyError):
        reviews.decide(item_id, term_id=None, label=None, by="x")
