"""waves.final_report_due: a closed wave's final report is owed until it is queued

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable and no backfill: waves closed before this revision owe nothing.
    with op.batch_alter_table("waves") as batch:
        batch.add_column(sa.Column("final_report_due", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("waves") as batch:
        batch.drop_column("final_report_due")
