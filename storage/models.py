"""SQLAlchemy 2 typed models: the whole schema of classpulse.

Anonymity (as LimeSurvey does it): `Response` and `Answer` carry survey, wave, class, role and the
date only. `Completion` says who finished a wave and has no link to any response. Response ids are
random, so that insertion order of ids cannot pair a response with a completion.
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
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
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


class Response(Base):
    """A submitted, anonymous response: no person, no identity, no exact time."""

    __tablename__ = "responses"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_random_response_id)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"))
    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id", ondelete="CASCADE"), index=True)
    class_id: Mapped[int | None] = mapped_column(ForeignKey("classes.id"), nullable=True)
    role: Mapped[str] = mapped_column(String(20))
    submitted_on: Mapped[date] = mapped_column(Date)


class Answer(Base):
    """One chosen option (or text) of a response; a multi-choice answer is several rows."""

    __tablename__ = "answers"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    response_id: Mapped[str] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(40))
    option_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    __table_args__ = (
        Index("ix_answers_wave_question_option", "wave_id", "question_id", "option_index"),
        # Covers "how many responses answered this question" without reading the table.
        Index("ix_answers_wave_question_response", "wave_id", "question_id", "response_id"),
        Index("ix_answers_response", "response_id"),
    )


class Completion(Base):
    """Who has finished a wave. Deliberately no link to the response and no timestamp."""

    __tablename__ = "completions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    __table_args__ = (UniqueConstraint("wave_id", "person_id"),)


class Conversation(Base):
    """The engine's persisted state for one messenger account (registered or not)."""

    __tablename__ = "conversations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
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
