"""The curator dashboard's tables: per-submission summaries, finding counts and the audit log.

Tables the dashboard created itself before this revision existed are adopted as they are.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

from harmonize.db.adopt import create_missing

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

_MEASURES = ["status", "individuals", "terms", "weak_terms"]


def _copied_columns() -> list[sa.Column[object]]:
    """Columns copied from the submission's row, so trend aggregates read one table."""
    return [
        sa.Column("received_at", sa.DateTime(timezone=True)),
        sa.Column("month", sa.String(7)),
        sa.Column("dataset", sa.String(128)),
        sa.Column("submitter", sa.String(256)),
    ]


def _summaries() -> None:
    counts = ["individuals", "features", "errors", "warnings", "infos", "terms", "weak_terms"]
    op.create_table(
        "dashboard_summaries",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("manifest_sha256", sa.String(64), primary_key=True),
        sa.Column("source_updated_at", sa.DateTime(timezone=True)),
        sa.Column("status", sa.String(16)),
        *_copied_columns(),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in counts),
    )


def _finding_counts() -> None:
    op.create_table(
        "dashboard_finding_counts",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("manifest_sha256", sa.String(64), primary_key=True),
        sa.Column("category", sa.String(128), primary_key=True),
        sa.Column("level", sa.String(16), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
        *_copied_columns(),
    )


def _audit() -> None:
    op.create_table(
        "dashboard_audit",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(256), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(512), nullable=False),
        sa.Column("detail", sa.String(2048)),
    )


_TABLES: dict[str, Callable[[], None]] = {
    "dashboard_summaries": _summaries,
    "dashboard_finding_counts": _finding_counts,
    "dashboard_audit": _audit,
}
_INDEXES: dict[str, tuple[str, list[str]]] = {
    "ix_dashboard_summaries_month_dataset": (
        "dashboard_summaries",
        ["month", "dataset", *_MEASURES],
    ),
    "ix_dashboard_summaries_month_submitter": (
        "dashboard_summaries",
        ["month", "submitter", *_MEASURES],
    ),
    "ix_dashboard_finding_counts_month": (
        "dashboard_finding_counts",
        ["month", "category", "count"],
    ),
    "ix_dashboard_audit_at": ("dashboard_audit", ["at"]),
}


def upgrade() -> None:
    create_missing(_TABLES, _INDEXES)


def downgrade() -> None:
    for name in reversed(_TABLES):
        op.drop_table(name)
