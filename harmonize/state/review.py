"""The review list and the per-dataset mapping memory.

A low-confidence or failed term match becomes a *review item*: the submitter's text,
where it was seen, and the candidate terms with their scores. A curator's decision
(accept a term, pick another, or mark the text unmappable) is stored with who made it
and when, and is re-applied to every later submission of the same dataset.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    insert,
    select,
    update,
)

from harmonize.state.store import make_engine

metadata = MetaData()
review_items = Table(
    "review_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset", String(128), nullable=False),
    Column("ontology", String(32), nullable=False),
    Column("text_key", String(512), nullable=False),
    Column("raw_text", String(1024), nullable=False),
    Column("submission_id", String(128)),
    Column("location", JSON),
    Column("candidates", JSON),
    Column("status", String(16), nullable=False, default="open"),
    Column("created_at", DateTime(timezone=True)),
    Column("decided_by", String(256)),
    Column("decided_at", DateTime(timezone=True)),
    UniqueConstraint("dataset", "ontology", "text_key", name="uq_review_text"),
)
decisions = Table(
    "mapping_decisions",
    metadata,
    Column("dataset", String(128), primary_key=True),
    Column("ontology", String(32), primary_key=True),
    Column("text_key", String(512), primary_key=True),
    Column("raw_text", String(1024)),
    Column("term_id", String(64)),  # None: the curator marked the text unmappable
    Column("label", String(512)),
    Column("decided_by", String(256), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
)


def text_key(text: str) -> str:
    """Case- and space-insensitive key of a submitter's text.

    >>> text_key("  Macro  CEPHALLY ")
    'macro cephally'
    """
    return " ".join(text.split()).casefold()


class ReviewStore:
    def __init__(self, url: str) -> None:
        from harmonize.db import upgrade

        self.engine = make_engine(url)
        upgrade(self.engine)

    def decision(self, dataset: str, ontology: str, text: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    select(decisions).where(
                        decisions.c.dataset == dataset,
                        decisions.c.ontology == ontology,
                        decisions.c.text_key == text_key(text),
                    )
                )
                .mappings()
                .first()
            )
        return dict(row) if row else None

    def add(
        self,
        *,
        dataset: str,
        ontology: str,
        text: str,
        submission_id: str,
        location: dict[str, Any],
        candidates: list[dict[str, Any]],
    ) -> int:
        """Open (or re-open with fresh evidence) the review item for this text; its id."""
        key = text_key(text)
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            found = conn.execute(
                select(review_items.c.id).where(
                    review_items.c.dataset == dataset,
                    review_items.c.ontology == ontology,
                    review_items.c.text_key == key,
                )
            ).first()
            values = {
                "raw_text": text,
                "submission_id": submission_id,
                "location": location,
                "candidates": candidates,
                "status": "open",
            }
            if found:
                conn.execute(
                    update(review_items).where(review_items.c.id == found[0]).values(**values)
                )
                return int(found[0])
            result = conn.execute(
                insert(review_items).values(
                    dataset=dataset, ontology=ontology, text_key=key, created_at=now, **values
                )
            )
            key_row = result.inserted_primary_key
            assert key_row is not None
            return int(key_row[0])

    def items(
        self, *, status: str | None = "open", dataset: str | None = None
    ) -> list[dict[str, Any]]:
        query = select(review_items).order_by(review_items.c.id)
        if status:
            query = query.where(review_items.c.status == status)
        if dataset:
            query = query.where(review_items.c.dataset == dataset)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings().all()]

    def item(self, item_id: int) -> dict[str, Any] | None:
        if not 0 < item_id < 2**63:  # not an id, and past SQLite's INTEGER (OverflowError)
            return None
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(review_items).where(review_items.c.id == item_id))
                .mappings()
                .first()
            )
        return dict(row) if row else None

    def decide(self, item_id: int, *, term_id: str | None, label: str | None, by: str) -> None:
        """Store a curator's decision for the item's text; it applies to later submissions."""
        item = self.item(item_id)
        if item is None:
            raise KeyError(f"no review item {item_id}")
        now = datetime.now(UTC)
        key = {
            "dataset": item["dataset"],
            "ontology": item["ontology"],
            "text_key": item["text_key"],
        }
        with self.engine.begin() as conn:
            exists = conn.execute(
                select(decisions.c.dataset).where(
                    *(getattr(decisions.c, k) == v for k, v in key.items())
                )
            ).first()
            values = {
                "raw_text": item["raw_text"],
                "term_id": term_id,
                "label": label,
                "decided_by": by,
                "decided_at": now,
            }
            if exists:
                conn.execute(
                    update(decisions)
                    .where(*(getattr(decisions.c, k) == v for k, v in key.items()))
                    .values(**values)
                )
            else:
                conn.execute(insert(decisions).values(**key, **values))
            conn.execute(
                update(review_items)
                .where(review_items.c.id == item_id)
                .values(
                    status="accepted" if term_id else "unmappable", decided_by=by, decided_at=now
                )
            )
