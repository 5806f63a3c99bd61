"""The Beacon's per-client query budget, shared by every worker: one counter per client
and fixed window.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from harmonize.db.adopt import create_missing

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def _beacon_budget() -> None:
    op.create_table(
        "beacon_budget",
        sa.Column("client", sa.String(64), primary_key=True),
        sa.Column("window_start", sa.BigInteger(), primary_key=True),
        sa.Column("spent", sa.Integer(), nullable=False),
    )


def upgrade() -> None:
    create_missing({"beacon_budget": _beacon_budget}, {})


def downgrade() -> None:
    op.drop_table("beacon_budget")
