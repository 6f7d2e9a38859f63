"""anonymous means unlinkable: no order, no time, no answers next to an identity

- `responses`, `answers`, `completions` are rebuilt without rowid (SQLite `WITHOUT ROWID`) and
  without autoincrement ids: responses keyed by their random id, answers by (response, question,
  item), completions by (wave, person). Rows are copied in key order in this one transaction, so
  neither the physical order (PostgreSQL ctid, SQLite rowid) nor PostgreSQL's xmin of the copies
  follows the order people submitted in.
- `responses.submitted_on` is dropped: the wave dates a response.
- `conversations.version` (a count of everything a chat ever pressed) is dropped.
- `outbox.sensitive`: the interactive replies already queued are marked, the finished ones are
  scrubbed now (no payload, no person, no recipient).
- Drafts of closed waves, and what earlier `/forget`s left behind (the emptied person row, its
  completions, its delivered messages), are deleted.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

NO_ROWID = {"sqlite_with_rowid": False}
SCRUBBED = '{"scrubbed": true}'
FINISHED = "('sent', 'failed', 'dropped')"


def _create_responses() -> None:
    op.create_table(
        "responses",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["class_id"], ["classes.id"], name=op.f("fk_responses_class_id_classes")
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_responses_survey_id_surveys")
        ),
        sa.ForeignKeyConstraint(
            ["wave_id"], ["waves.id"], name=op.f("fk_responses_wave_id_waves"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_responses")),
        **NO_ROWID,
    )
    op.create_index(op.f("ix_responses_wave_id"), "responses", ["wave_id"], unique=False)


def _create_answers() -> None:
    op.create_table(
        "answers",
        sa.Column("response_id", sa.String(length=32), nullable=False),
        sa.Column("question_id", sa.String(length=40), nullable=False),
        sa.Column("item", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("option_index", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_answers_response_id_responses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["wave_id"], ["waves.id"], name=op.f("fk_answers_wave_id_waves"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("response_id", "question_id", "item", name=op.f("pk_answers")),
        **NO_ROWID,
    )
    op.create_index(
        "ix_answers_wave_question_option", "answers", ["wave_id", "question_id", "option_index"]
    )
    op.create_index(
        "ix_answers_wave_question_response", "answers", ["wave_id", "question_id", "response_id"]
    )


def _create_completions() -> None:
    op.create_table(
        "completions",
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_completions_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["wave_id"], ["waves.id"], name=op.f("fk_completions_wave_id_waves"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("wave_id", "person_id", name=op.f("pk_completions")),
        **NO_ROWID,
    )
    op.create_index(op.f("ix_completions_person_id"), "completions", ["person_id"], unique=False)


def _forget_leftovers() -> None:
    """What `/forget` used to leave: an emptied person row (no identity) with its completions,
    reminders, receipts and the messages it had been sent, chat id and all."""
    gone = "SELECT id FROM people WHERE id NOT IN (SELECT person_id FROM identities)"
    for table in ("completions", "drafts", "reminders", "memberships", "notice_deliveries"):
        op.execute(f"DELETE FROM {table} WHERE person_id IN ({gone})")
    op.execute(f"DELETE FROM outbox WHERE person_id IN ({gone})")
    op.execute(f"DELETE FROM notice_questions WHERE asker_id IN ({gone})")
    op.execute(f"UPDATE notices SET author_id = NULL WHERE author_id IN ({gone})")
    op.execute(f"UPDATE group_bindings SET bound_by = NULL WHERE bound_by IN ({gone})")
    op.execute(f"DELETE FROM people WHERE id IN ({gone})")


def upgrade() -> None:
    # Copies of the data: plain tables, no constraints (their names stay free for the new ones).
    op.execute(
        "CREATE TABLE old_responses AS SELECT id, survey_id, wave_id, class_id, role FROM responses"
    )
    op.execute(
        "CREATE TABLE old_answers AS SELECT response_id, question_id, "
        "ROW_NUMBER() OVER (PARTITION BY response_id, question_id ORDER BY id) - 1 AS item, "
        "wave_id, option_index, text FROM answers"
    )
    op.execute("CREATE TABLE old_completions AS SELECT wave_id, person_id FROM completions")
    op.drop_table("answers")
    op.drop_table("responses")
    op.drop_table("completions")
    _create_responses()
    _create_answers()
    _create_completions()
    # Written back in key order, in this one transaction: the random ids decide the order.
    op.execute(
        "INSERT INTO responses (id, survey_id, wave_id, class_id, role) "
        "SELECT id, survey_id, wave_id, class_id, role FROM old_responses ORDER BY id"
    )
    op.execute(
        "INSERT INTO answers (response_id, question_id, item, wave_id, option_index, text) "
        "SELECT response_id, question_id, item, wave_id, option_index, text FROM old_answers "
        "ORDER BY response_id, question_id, item"
    )
    op.execute(
        "INSERT INTO completions (wave_id, person_id) "
        "SELECT wave_id, person_id FROM old_completions ORDER BY wave_id, person_id"
    )
    for table in ("old_answers", "old_responses", "old_completions"):
        op.drop_table(table)

    with op.batch_alter_table("conversations") as batch_op:
        batch_op.drop_column("version")

    # First, while their rows still name them: what earlier /forgets left behind.
    _forget_leftovers()

    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(
            sa.Column("sensitive", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    # Interactive replies (the service's `r:` rows) are the ones that showed answers. Queued ones
    # are scrubbed when they are sent; delivered ones now.
    true = "1" if op.get_bind().dialect.name == "sqlite" else "true"
    op.execute(
        f"UPDATE outbox SET sensitive = {true} WHERE kind = 'reply' AND idempotency_key LIKE 'r:%'"
    )
    op.execute(
        f"UPDATE outbox SET payload = '{SCRUBBED}', person_id = NULL, recipient = '', "
        "external_message_id = NULL, idempotency_key = 'scrubbed:' || id "
        f"WHERE sensitive AND status IN {FINISHED}"
    )

    # Unfinished answers of closed waves can never be submitted: nothing to keep them for.
    op.execute("DELETE FROM drafts WHERE wave_id IN (SELECT id FROM waves WHERE status = 'closed')")


def downgrade() -> None:
    """Back to 0002's shape. What was scrubbed or deleted stays so; responses are dated by their
    wave's opening (or creation) day, answers and completions get new ids in key order."""
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_column("sensitive")
    with op.batch_alter_table("conversations") as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="0", nullable=False))
    op.execute(
        "CREATE TABLE old_responses AS SELECT r.id, r.survey_id, r.wave_id, r.class_id, r.role, "
        "COALESCE(w.opens_at, w.created_at) AS dated FROM responses r "
        "JOIN waves w ON w.id = r.wave_id"
    )
    op.execute("CREATE TABLE old_answers AS SELECT * FROM answers")
    op.execute("CREATE TABLE old_completions AS SELECT wave_id, person_id FROM completions")
    op.drop_table("answers")
    op.drop_table("responses")
    op.drop_table("completions")
    op.create_table(
        "responses",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["class_id"], ["classes.id"], name=op.f("fk_responses_class_id_classes")
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_responses_survey_id_surveys")
        ),
        sa.ForeignKeyConstraint(
            ["wave_id"], ["waves.id"], name=op.f("fk_responses_wave_id_waves"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_responses")),
    )
    op.create_index(op.f("ix_responses_wave_id"), "responses", ["wave_id"], unique=False)
    op.create_table(
        "answers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("response_id", sa.String(length=32), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=40), nullable=False),
        sa.Column("option_index", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_answers_response_id_responses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["wave_id"], ["waves.id"], name=op.f("fk_answers_wave_id_waves"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answers")),
    )
    op.create_index("ix_answers_response", "answers", ["response_id"])
    op.create_index(
        "ix_answers_wave_question_option", "answers", ["wave_id", "question_id", "option_index"]
    )
    op.create_index(
        "ix_answers_wave_question_response", "answers", ["wave_id", "question_id", "response_id"]
    )
    op.create_table(
        "completions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_completions_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["wave_id"], ["waves.id"], name=op.f("fk_completions_wave_id_waves"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_completions")),
        sa.UniqueConstraint("wave_id", "person_id", name=op.f("uq_completions_wave_id_person_id")),
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    day = "substr(dated, 1, 10)" if sqlite else "CAST(dated AS DATE)"
    op.execute(
        "INSERT INTO responses (id, survey_id, wave_id, class_id, role, submitted_on) "
        f"SELECT id, survey_id, wave_id, class_id, role, {day} FROM old_responses ORDER BY id"
    )
    op.execute(
        "INSERT INTO answers (response_id, wave_id, question_id, option_index, text) "
        "SELECT response_id, wave_id, question_id, option_index, text FROM old_answers "
        "ORDER BY response_id, question_id, item"
    )
    op.execute(
        "INSERT INTO completions (wave_id, person_id) "
        "SELECT wave_id, person_id FROM old_completions ORDER BY wave_id, person_id"
    )
    for table in ("old_answers", "old_responses", "old_completions"):
        op.drop_table(table)
