"""conversations.shown: which message of a chat shows the current question

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30

The outbox scrubs a survey's messages once sent (anonymity), so the message that shows the
question a person is answering is remembered on the chat's conversation row instead: a
position ("wave:question") and the platform's message id, nothing of the answers.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("shown", sa.String(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("shown")
