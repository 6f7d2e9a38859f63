"""SQLAlchemy 2 typed models: the whole schema of classpulse.

Anonymity (docs/privacy.md): `Response` and `Answer` carry survey, wave, class and role only: no
person, no time. `Completion` says who finished a wave and has no link to any response. Response
ids are random, and no row of either side carries an order: `responses`, `answers` and
`completions` have no rowid (SQLite `WITHOUT ROWID`, keyed by the random id resp. by wave and
person) and no autoincrement id, and a submission rewrites its whole (wave, class, role) group in
id order (storage/repositories/responses.py), so neither row order nor PostgreSQL's ctid/xmin
follow the order people submitted in.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

from storage.records import FAMILY_ROLES, ROLES, SCHOOL_WIDE_ROLES, STAFF_ROLES  # noqa: E402

__all__ = ["FAMILY_ROLES", "ROLES", "SCHOOL_WIDE_ROLES", "STAFF_ROLES"]


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC: the same on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class School(Base):
    __tablename__ = "schools"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class SchoolClass(Base):
    """A class of the school, e.g. `7-А`."""

    __tablename__ = "classes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    name: Mapped[str] = mapped_column(String(40))
    __table_args__ = (UniqueConstraint("school_id", "name"),)


class Person(Base):
    __tablename__ = "people"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(5), default="uk")
    consent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    identities: Mapped[list[Identity]] = relationship(back_populates="person")
    memberships: Mapped[list[Membership]] = relationship(back_populates="person")


class Identity(Base):
    """One messenger account of a person: channel + external id (chat id / Viber user id)."""

    __tablename__ = "identities"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    unreachable_at: Mapped[datetime | None] = mapped_column(nullable=True)
    unreachable_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    person: Mapped[Person] = relationship(back_populates="identities")
    __table_args__ = (UniqueConstraint("channel", "external_id"),)


class Membership(Base):
    """A person's role in a class; class is empty for school-wide roles (director, admin)."""

    __tablename__ = "memberships"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    class_id: Mapped[int | None] = mapped_column(ForeignKey("classes.id"), nullable=True)
    role: Mapped[str] = mapped_column(String(20))
    person: Mapped[Person] = relationship(back_populates="memberships")
    __table_args__ = (
        UniqueConstraint("person_id", "class_id", "role"),
        Index("ix_memberships_class_role", "class_id", "role"),
    )


class Invite(Base):
    __tablename__ = "invites"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    class_id: Mapped[int | None] = mapped_column(ForeignKey("classes.id"), nullable=True)
    role: Mapped[str] = mapped_column(String(20))
    expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    max_uses: Mapped[int | None] = mapped_column(Integer, nullable=True)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Survey(Base):
    """One version of a questionnaire: an edited YAML file (new content hash) is a new row."""

    __tablename__ = "surveys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    content_hash: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (
        UniqueConstraint("slug", "content_hash"),
        UniqueConstraint("slug", "version"),
    )


class Wave(Base):
    """One run of a survey for some classes: scheduled -> open -> closed."""

    __tablename__ = "waves"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    label: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    opens_at: Mapped[datetime | None] = mapped_column(nullable=True)
    closes_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(16), default="bot")
    import_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    # When the closed wave's final report is next to be tried; NULL once it was queued (or
    # none is owed). Set in the closing transaction, so a crash after it loses no report.
    final_report_due: Mapped[datetime | None] = mapped_column(nullable=True)
    classes: Mapped[list[WaveClass]] = relationship(cascade="all, delete-orphan")
    __table_args__ = (UniqueConstraint("survey_id", "label"),)


class WaveClass(Base):
    __tablename__ = "wave_classes"
    wave_id: Mapped[int] = mapped_column(
        ForeignKey("waves.id", ondelete="CASCADE"), primary_key=True
    )
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"), primary_key=True)


class Draft(Base):
    """In-progress answers of one person for one wave: resumable, deleted on submit."""

    __tablename__ = "drafts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    class_id: Mapped[int | None] = mapped_column(ForeignKey("classes.id"), nullable=True)
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    position: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (UniqueConstraint("wave_id", "person_id"),)


def _random_response_id() -> str:
    return uuid.uuid4().hex


# No rowid: a rowid is insertion order, and the insertion order of responses and completions is
# the order people submitted in. Without it a table is a B-tree on its primary key.
NO_ROWID = {"sqlite_with_rowid": False}


class Response(Base):
    """A submitted, anonymous response: no person, no identity, no time (the wave dates it)."""

    __tablename__ = "responses"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_random_response_id)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"))
    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id", ondelete="CASCADE"), index=True)
    class_id: Mapped[int | None] = mapped_column(ForeignKey("classes.id"), nullable=True)
    role: Mapped[str] = mapped_column(String(20))
    __table_args__ = NO_ROWID


class Answer(Base):
    """One chosen option (or text) of a response; a multi-choice answer is several rows.

    Keyed by the response's random id: (response, question, item), item numbering the rows of
    one question's answer from 0."""

    __tablename__ = "answers"
    response_id: Mapped[str] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    item: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id", ondelete="CASCADE"))
    option_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    __table_args__ = (
        Index("ix_answers_wave_question_option", "wave_id", "question_id", "option_index"),
        # Covers "how many responses answered this question" without reading the table.
        Index("ix_answers_wave_question_response", "wave_id", "question_id", "response_id"),
        NO_ROWID,
    )


class Completion(Base):
    """Who has finished a wave. Deliberately no link to the response, no id and no timestamp."""

    __tablename__ = "completions"
    wave_id: Mapped[int] = mapped_column(
        ForeignKey("waves.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    __table_args__ = NO_ROWID


class Conversation(Base):
    """The engine's persisted state for one messenger account (registered or not)."""

    __tablename__ = "conversations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # "<wave>:<question>|<platform message id>": the sent message showing the current question,
    # so a typed answer can take that message's buttons away (the outbox keeps no trace of it).
    shown: Mapped[str | None] = mapped_column(String(120), nullable=True)
    __table_args__ = (UniqueConstraint("channel", "external_id"),)


class ProcessedEvent(Base):
    """Deduplication of inbound deliveries (Telegram update_id, Viber message_token)."""

    __tablename__ = "processed_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    event_key: Mapped[str] = mapped_column(String(128))
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (UniqueConstraint("channel", "event_key"),)


class OutboxMessage(Base):
    """A message to send: written first, sent by the outbox sender, never lost."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(128))
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(24), default="reply")
    urgent: Mapped[bool] = mapped_column(Boolean, default=True)
    # Shows answers (a survey's replies) or follows an erasure: once sent, failed or dropped the
    # row keeps neither its payload nor whom it went to (storage/repositories/outbox.py).
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    payload: Mapped[dict[str, Any]] = mapped_column()
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    external_message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    notice_id: Mapped[int | None] = mapped_column(
        ForeignKey("notices.id", ondelete="SET NULL"), nullable=True
    )
    __table_args__ = (
        Index("ix_outbox_due", "status", "channel", "next_attempt_at"),
        Index("ix_outbox_recipient", "channel", "recipient", "status"),
    )


class GroupBinding(Base):
    """A Telegram class group bound to a class with /bind."""

    __tablename__ = "group_bindings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"))
    bound_by: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (UniqueConstraint("channel", "chat_id"),)


class Notice(Base):
    """An assessment-criteria notice for one class and subject."""

    __tablename__ = "notices"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"))
    subject: Mapped[str] = mapped_column(String(120))
    audience: Mapped[str] = mapped_column(String(12))
    text: Mapped[str] = mapped_column(Text)
    file_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    file_path: Mapped[str | None] = mapped_column(String(500), nullable=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), nullable=True
    )
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    superseded_by: Mapped[int | None] = mapped_column(ForeignKey("notices.id"), nullable=True)
    __table_args__ = (Index("ix_notices_class_subject", "class_id", "subject"),)


class NoticeDelivery(Base):
    """One recipient of a notice, with the receipts the school's coverage counts."""

    __tablename__ = "notice_deliveries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))
    delivered_at: Mapped[datetime | None] = mapped_column(nullable=True)
    seen_at: Mapped[datetime | None] = mapped_column(nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(nullable=True)
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    last_sent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    __table_args__ = (UniqueConstraint("notice_id", "person_id"),)


class NoticeQuestion(Base):
    """A family member's question about a notice, relayed to the teacher, and the answer."""

    __tablename__ = "notice_questions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"))
    asker_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), nullable=True
    )
    text: Mapped[str] = mapped_column(Text)
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(nullable=True)
    relay_message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class ReminderLog(Base):
    """Survey reminders sent to a person for a wave (to cap them and to skip repeats)."""

    __tablename__ = "reminders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    count: Mapped[int] = mapped_column(Integer, default=0)
    last_sent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    __table_args__ = (UniqueConstraint("wave_id", "person_id"),)


class ChannelCounter(Base):
    """Counters for events that are only counted (e.g. Viber `failed` callbacks)."""

    __tablename__ = "channel_counters"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(40))
    value: Mapped[int] = mapped_column(Integer, default=0)
    __table_args__ = (UniqueConstraint("channel", "name"),)


class BotIdentity(Base):
    """What the running bot learned about itself (e.g. its Telegram username from getMe, its
    Viber URI), so that commands run without the bot build working links."""

    __tablename__ = "bot_identity"
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class StaffAudit(Base):
    """What staff changed or sent from the messenger or the CLI: who, what, when.

    `action`: assign_class_teacher | remove_role | nudge | open_wave | close_wave | invite.
    A nudge's (wave, class, time) is also what limits nudges to one per 24 h per class and wave.
    """

    __tablename__ = "staff_audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), nullable=True
    )
    actor_name: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), nullable=True
    )
    target_name: Mapped[str] = mapped_column(String(200), default="")
    class_id: Mapped[int | None] = mapped_column(ForeignKey("classes.id"), nullable=True)
    wave_id: Mapped[int | None] = mapped_column(
        ForeignKey("waves.id", ondelete="SET NULL"), nullable=True
    )
    detail: Mapped[str] = mapped_column(String(500), default="")
    __table_args__ = (Index("ix_staff_audit_action_wave_class", "action", "wave_id", "class_id"),)


class ReportRequest(Base):
    """A report asked for in chat: rendered off the event's transaction, then marked done."""

    __tablename__ = "report_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    language: Mapped[str] = mapped_column(String(5), default="uk")
    # None: every survey's open (else latest) wave at once, as the digest and `report --all`.
    wave_id: Mapped[int | None] = mapped_column(
        ForeignKey("waves.id", ondelete="CASCADE"), nullable=True
    )
    class_id: Mapped[int | None] = mapped_column(ForeignKey("classes.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(nullable=True)
    __table_args__ = (Index("ix_report_requests_done", "done_at"),)


class FormsImportRequest(Base):
    """A Google Forms export sent in chat and not yet imported: what to import and where to
    say how it went. Deleted in the import's own transaction, or with the reply that says why
    nothing was imported; a row left by a crash is imported when the bot starts again. It
    holds the messenger's reference to the file, never the file."""

    __tablename__ = "forms_import_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    language: Mapped[str] = mapped_column(String(5), default="uk")
    survey_slug: Mapped[str] = mapped_column(String(64))
    wave_label: Mapped[str | None] = mapped_column(String(64), nullable=True)
    file_ref: Mapped[str] = mapped_column(Text)
    file_name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MessengerSession(Base):
    """When a subscriber's free session on a billed channel ends (Viber: 24 hours after they
    last wrote or pressed a button). One row per account, overwritten: no history is kept; an
    ended one is kept SESSION_MEMORY (bot/usage/cost.py) for the hour reminders go at; /forget
    deletes it."""

    __tablename__ = "messenger_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    ends_at: Mapped[datetime] = mapped_column()
    __table_args__ = (UniqueConstraint("channel", "external_id"),)


class MessageUsage(Base):
    """Messages sent per channel and school day, by billing class: `session` (free, inside a
    session the subscriber opened) or `initiated` (chatbot-initiated: paid on Viber)."""

    __tablename__ = "message_usage"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    day: Mapped[date] = mapped_column(Date)
    billing: Mapped[str] = mapped_column(String(12))
    count: Mapped[int] = mapped_column(Integer, default=0)
    __table_args__ = (UniqueConstraint("channel", "day", "billing"),)


class StoredFile(Base):
    """A file the bot serves (a notice's attachment, a report), stored once by content:
    the bytes live at data_dir/files/<sha256>."""

    __tablename__ = "stored_files"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    mime: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FileLink(Base):
    """A public, expiring link to a stored file: `/files/<token>/<name>`. Only the token's
    SHA-256 is kept, so the table cannot be turned back into working links."""

    __tablename__ = "file_links"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    notice_id: Mapped[int | None] = mapped_column(
        ForeignKey("notices.id", ondelete="CASCADE"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InboxUpdate(Base):
    """An inbound update stored before the platform is told it arrived (Telegram's offset
    confirmed, a webhook answered 200), deleted once processed. `chat` orders a chat's updates:
    they are processed one at a time, in id order; different chats concurrently."""

    __tablename__ = "inbox"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    update_key: Mapped[str] = mapped_column(String(128))
    chat: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # A worker's claim: nobody else takes the row before this time (None: not claimed).
    claimed_until: Mapped[datetime | None] = mapped_column(nullable=True)
    __table_args__ = (
        UniqueConstraint("channel", "update_key"),
        Index("ix_inbox_chat", "channel", "chat", "id"),
    )


class Lease(Base):
    """A named role only one process may hold at a time (the Telegram poller, the scheduler),
    until `expires_at` unless renewed."""

    __tablename__ = "leases"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column()


class SendBudget(Base):
    """The send pace shared by every process: per channel, the GCRA "theoretical arrival time"
    (epoch seconds) of the whole channel (`key` = "*") and of each recently paced chat."""

    __tablename__ = "send_budget"
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    tat: Mapped[float] = mapped_column(Float)
