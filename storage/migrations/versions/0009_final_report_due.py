"""waves.final_report_due: a closed wave's final report is owed until it is queued

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlite3

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable and no backfill: waves closed before this revision owe nothing. Plain ALTER
    # TABLE on SQLite too: a batch "recreate" of `waves` would drop the table, and dropping it
    # cascades to every response, answer and completion of every wave.
    op.add_column("waves", sa.Column("final_report_due", sa.DateTime(), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite" and sqlite3.sqlite_version_info < (3, 35):
        # No native DROP COLUMN before SQLite 3.35, and recreating `waves` would cascade (see
        # above): the nullable column stays, unknown to 0008's code and harmless to it.
        return
    op.drop_column("waves", "final_report_due")
