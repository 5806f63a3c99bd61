"""The publication lifecycle: the ledger of publications, withdrawals, and per-object
version, supersession, tombstone reason and consent.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from harmonize.db.adopt import create_missing

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def _publications() -> None:
    op.create_table(
        "publications",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("submission_id", sa.String(255)),
        sa.Column("version", sa.Integer()),
        sa.Column("manifest_sha256", sa.String(64)),
        sa.Column("version_sha256", sa.String(64)),
        sa.Column("bundle_id", sa.String(128)),
        sa.Column("dataset", sa.String(255)),
        sa.Column("table_versions", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("started_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("committed_time", sa.DateTime(timezone=True)),
        sa.Column("note", sa.Text()),
    )


def _withdrawals() -> None:
    op.create_table(
        "withdrawals",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("dataset", sa.String(255), nullable=False),
        sa.Column("subject_hash", sa.String(64), nullable=False),
        sa.Column("by", sa.String(255), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("seq", sa.BigInteger()),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.Column("objects", sa.Integer(), nullable=False),
        sa.Column("created_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_time", sa.DateTime(timezone=True)),
    )


def _subject_objects() -> None:
    op.create_table(
        "subject_objects",
        sa.Column("object_id", sa.String(128), primary_key=True),
        sa.Column("dataset", sa.String(255), nullable=False),
        sa.Column("subject_hash", sa.String(64), nullable=False),
        sa.Column("submission_id", sa.String(255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )


_COLUMNS: dict[str, Any] = {
    "tombstone": sa.String(16),
    "superseded_by": sa.String(128),
    "consent": sa.JSON(),
}


def upgrade() -> None:
    # a registry made with create_all by a newer model may hold some of this already
    create_missing(
        {
            "publications": _publications,
            "withdrawals": _withdrawals,
            "subject_objects": _subject_objects,
        },
        {
            "ix_publications_submission_id": ("publications", ["submission_id"]),
            "ix_publications_version_sha256": ("publications", ["version_sha256"]),
            "ix_withdrawals_dataset": ("withdrawals", ["dataset"]),
            "ix_withdrawals_subject_hash": ("withdrawals", ["subject_hash"]),
            "ix_subject_objects_subject_hash": ("subject_objects", ["subject_hash"]),
        },
    )
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("drs_objects")}
    missing = [name for name in _COLUMNS if name not in have]
    if missing:
        with op.batch_alter_table("drs_objects") as batch:
            for name in missing:
                batch.add_column(sa.Column(name, _COLUMNS[name]))


def downgrade() -> None:
    with op.batch_alter_table("drs_objects") as batch:
        batch.drop_column("consent")
        batch.drop_column("superseded_by")
        batch.drop_column("tombstone")
    op.drop_table("subject_objects")
    op.drop_table("withdrawals")
    op.drop_table("publications")
