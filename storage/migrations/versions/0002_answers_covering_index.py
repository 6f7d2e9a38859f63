"""answers: covering index for per-question respondent counts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_answers_wave_question_response",
        "answers",
        ["wave_id", "question_id", "response_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_answers_wave_question_response", table_name="answers")
