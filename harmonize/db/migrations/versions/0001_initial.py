"""Initial schema: the DRS registry, the submission state and the review list.

A table that exists already is left as it is and only gains the indexes it lacks:
databases made with ``create_all`` before migrations existed are adopted by this revision.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

from harmonize.db.adopt import create_missing

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def _drs_objects() -> None:
    op.create_table(
        "drs_objects",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.String(128), nullable=True),
        sa.Column("mime_type", sa.String(255), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("path", sa.Text(), nullable=True),
        sa.Column("submission_id", sa.String(255), nullable=False),
        sa.Column("dataset", sa.String(255), nullable=False),
        sa.Column("access", sa.String(16), nullable=False),
        sa.Column("role", sa.String(16), nullable=True),
        sa.Column("is_bundle", sa.Boolean(), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.CheckConstraint("access IN ('public', 'controlled')", name="ck_drs_objects_access"),
        sa.CheckConstraint(
            "role IS NULL OR role IN ('input', 'published', 'report')", name="ck_drs_objects_role"
        ),
    )


def _drs_bundle_members() -> None:
    op.create_table(
        "drs_bundle_members",
        sa.Column("bundle_id", sa.String(128), primary_key=True),
        sa.Column("member_id", sa.String(128), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
    )


def _submissions() -> None:
    op.create_table(
        "submissions",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("manifest_sha256", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("submitter", sa.String(256)),
        sa.Column("dataset", sa.String(128)),
        sa.Column("profile", sa.String(64)),
        sa.Column("access", sa.String(16)),
        sa.Column("received_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
        sa.Column("report_path", sa.String(1024)),
        sa.Column("bundle_id", sa.String(128)),
        sa.Column("stats", sa.JSON()),
    )


def _submission_events() -> None:
    op.create_table(
        "submission_events",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("submission_id", sa.String(128), nullable=False),
        sa.Column("manifest_sha256", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.String(2048)),
    )


def _review_items() -> None:
    op.create_table(
        "review_items",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("dataset", sa.String(128), nullable=False),
        sa.Column("ontology", sa.String(32), nullable=False),
        sa.Column("text_key", sa.String(512), nullable=False),
        sa.Column("raw_text", sa.String(1024), nullable=False),
        sa.Column("submission_id", sa.String(128)),
        sa.Column("location", sa.JSON()),
        sa.Column("candidates", sa.JSON()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True)),
        sa.Column("decided_by", sa.String(256)),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("dataset", "ontology", "text_key", name="uq_review_text"),
    )


def _mapping_decisions() -> None:
    op.create_table(
        "mapping_decisions",
        sa.Column("dataset", sa.String(128), primary_key=True),
        sa.Column("ontology", sa.String(32), primary_key=True),
        sa.Column("text_key", sa.String(512), primary_key=True),
        sa.Column("raw_text", sa.String(1024)),
        sa.Column("term_id", sa.String(64)),
        sa.Column("label", sa.String(512)),
        sa.Column("decided_by", sa.String(256), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
    )


_TABLES: dict[str, Callable[[], None]] = {
    "drs_objects": _drs_objects,
    "drs_bundle_members": _drs_bundle_members,
    "submissions": _submissions,
    "submission_events": _submission_events,
    "review_items": _review_items,
    "mapping_decisions": _mapping_decisions,
}


_INDEXES: dict[str, tuple[str, list[str]]] = {
    "ix_drs_objects_submission_id": ("drs_objects", ["submission_id"]),
    "ix_submission_events_submission_id": ("submission_events", ["submission_id"]),
    # the dashboard's list and trend queries
    "ix_submissions_received_at": ("submissions", ["received_at"]),
    "ix_submissions_dataset_received_at": ("submissions", ["dataset", "received_at"]),
    "ix_submissions_submitter_received_at": ("submissions", ["submitter", "received_at"]),
    "ix_submissions_status": ("submissions", ["status"]),
}


def upgrade() -> None:
    create_missing(_TABLES, _INDEXES)


def downgrade() -> None:
    for name in reversed(_TABLES):
        op.drop_table(name)
