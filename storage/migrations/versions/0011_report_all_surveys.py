"""report_requests.wave_id may be empty: a report of every survey at once asked for in chat

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # On SQLite this recreates `report_requests` (no NOT NULL change in place). Nothing points
    # at that table, so dropping the old copy cascades nowhere.
    with op.batch_alter_table("report_requests") as batch:
        batch.alter_column("wave_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    # 0010's code knows only one wave per request: requests for every survey are dropped.
    op.execute("DELETE FROM report_requests WHERE wave_id IS NULL")
    with op.batch_alter_table("report_requests") as batch:
        batch.alter_column("wave_id", existing_type=sa.Integer(), nullable=False)
