"""Assessment-criteria notices: notices, their recipients (deliveries), questions, coverage."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.orm import Session

from storage.models import (
    GroupBinding,
    Membership,
    Notice,
    NoticeDelivery,
    NoticeQuestion,
    OutboxMessage,
    Person,
    SchoolClass,
)
from storage.records import NoticeInfo, QuestionInfo

RELAY_KEY_PREFIX = "cq:"  # outbox idempotency keys of questions relayed to teachers


@dataclass(frozen=True)
class NewNotice:
    class_id: int
    subject: str
    audience: str
    text: str
    file_name: str | None
    file_path: str | None
    author_id: int | None
    content_hash: str


@dataclass(frozen=True)
class DeliveryInfo:
    notice_id: int
    person_id: int
    role: str
    acknowledged_at: datetime | None
    reminders_sent: int


@dataclass(frozen=True)
class DueReminder:
    notice_id: int
    person_id: int
    role: str
    reminders_sent: int


@dataclass(frozen=True)
class CoverageCounts:
    notice_id: int
    recipients: int
    delivered: int
    seen: int
    acknowledged: int
    questions: int
    answered: int


def _notices(session: Session, *where: Any, by_class: bool = False) -> list[NoticeInfo]:
    query = (
        select(Notice, SchoolClass.name, Person.display_name)
        .join(SchoolClass, SchoolClass.id == Notice.class_id)
        .outerjoin(Person, Person.id == Notice.author_id)
        .where(*where)
    )
    if by_class:
        query = query.order_by(SchoolClass.name, Notice.subject, Notice.id)
    result = []
    for n, class_name, author_name in session.execute(query):
        result.append(
            NoticeInfo(
                id=n.id,
                class_id=n.class_id,
                class_name=class_name,
                subject=n.subject,
                audience=n.audience,
                text=n.text,
                file_name=n.file_name,
                file_path=n.file_path,
                author_id=n.author_id,
                author_name=author_name or "",
                content_hash=n.content_hash,
                created_at=n.created_at,
                superseded_by=n.superseded_by,
            )
        )
    return result


# ---------------------------------------------------------------- notices
def get_notice(session: Session, notice_id: int) -> NoticeInfo | None:
    found = _notices(session, Notice.id == notice_id)
    return found[0] if found else None


def current_notices(
    session: Session, class_ids: list[int] | None = None, include_superseded: bool = False
) -> list[NoticeInfo]:
    """Notices by class name and subject; only the current ones unless asked otherwise."""
    where: list[Any] = []
    if class_ids is not None:
        where.append(Notice.class_id.in_(class_ids))
    if not include_superseded:
        where.append(Notice.superseded_by.is_(None))
    return _notices(session, *where, by_class=True)


def create_notice(session: Session, new: NewNotice, now: datetime) -> int:
    notice = Notice(
        class_id=new.class_id,
        subject=new.subject,
        audience=new.audience,
        text=new.text,
        file_name=new.file_name,
        file_path=new.file_path,
        author_id=new.author_id,
        content_hash=new.content_hash,
        created_at=now,
    )
    session.add(notice)
    session.flush()
    return notice.id


def supersede(session: Session, old_ids: list[int], new_id: int) -> None:
    if old_ids:
        session.execute(update(Notice).where(Notice.id.in_(old_ids)).values(superseded_by=new_id))


def group_chats(session: Session, class_id: int) -> list[tuple[str, str]]:
    """(channel, chat id) of the class groups bound to a class."""
    rows = session.execute(
        select(GroupBinding.channel, GroupBinding.chat_id)
        .where(GroupBinding.class_id == class_id)
        .order_by(GroupBinding.id)
    ).all()
    return [(r[0], r[1]) for r in rows]


def class_teachers(session: Session, class_id: int) -> list[int]:
    return list(
        session.scalars(
            select(Membership.person_id)
            .where(Membership.class_id == class_id, Membership.role == "class_teacher")
            .order_by(Membership.person_id)
        )
    )


# ---------------------------------------------------------------- deliveries
def add_deliveries(
    session: Session, notice_id: int, people: list[tuple[int, str]], now: datetime
) -> None:
    """One row per (person, role) recipient; the first send counts as `last_sent_at`."""
    for person_id, role in people:
        session.add(
            NoticeDelivery(
                notice_id=notice_id,
                person_id=person_id,
                role=role,
                reminders_sent=0,
                last_sent_at=now,
            )
        )
    session.flush()


def mark_delivered(session: Session, notice_id: int, person_id: int, now: datetime) -> None:
    session.execute(
        update(NoticeDelivery)
        .where(
            NoticeDelivery.notice_id == notice_id,
            NoticeDelivery.person_id == person_id,
            NoticeDelivery.delivered_at.is_(None),
        )
        .values(delivered_at=now)
    )


def get_delivery(session: Session, notice_id: int, person_id: int) -> DeliveryInfo | None:
    row = session.scalars(
        select(NoticeDelivery).where(
            NoticeDelivery.notice_id == notice_id, NoticeDelivery.person_id == person_id
        )
    ).first()
    if row is None:
        return None
    return DeliveryInfo(
        row.notice_id, row.person_id, row.role, row.acknowledged_at, row.reminders_sent
    )


def acknowledge(session: Session, notice_id: int, person_id: int, role: str, now: datetime) -> bool:
    """Mark understood; a late joiner who reads it via /criteria gets a delivery row now.

    Returns False when it was acknowledged already.
    """
    row = session.scalars(
        select(NoticeDelivery).where(
            NoticeDelivery.notice_id == notice_id, NoticeDelivery.person_id == person_id
        )
    ).first()
    if row is None:
        session.add(
            NoticeDelivery(
                notice_id=notice_id,
                person_id=person_id,
                role=role,
                reminders_sent=0,
                last_sent_at=now,
                acknowledged_at=now,
            )
        )
        session.flush()
        return True
    if row.acknowledged_at is not None:
        return False
    row.acknowledged_at = now
    session.flush()
    return True


def due_reminders(
    session: Session, sent_before: datetime, max_reminders: int, limit: int = 5000
) -> list[DueReminder]:
    """Unacknowledged deliveries of current notices, last sent before `sent_before`."""
    rows = session.execute(
        select(
            NoticeDelivery.notice_id,
            NoticeDelivery.person_id,
            NoticeDelivery.role,
            NoticeDelivery.reminders_sent,
        )
        .join(Notice, Notice.id == NoticeDelivery.notice_id)
        .where(
            Notice.superseded_by.is_(None),
            NoticeDelivery.acknowledged_at.is_(None),
            NoticeDelivery.reminders_sent < max_reminders,
            NoticeDelivery.last_sent_at <= sent_before,
        )
        .order_by(NoticeDelivery.notice_id, NoticeDelivery.person_id)
        .limit(limit)
    ).all()
    return [DueReminder(r[0], r[1], r[2], r[3]) for r in rows]


def mark_reminded(session: Session, notice_id: int, person_id: int, now: datetime) -> None:
    session.execute(
        update(NoticeDelivery)
        .where(NoticeDelivery.notice_id == notice_id, NoticeDelivery.person_id == person_id)
        .values(reminders_sent=NoticeDelivery.reminders_sent + 1, last_sent_at=now)
    )


def languages(session: Session, person_ids: list[int]) -> dict[int, str]:
    if not person_ids:
        return {}
    rows = session.execute(select(Person.id, Person.language).where(Person.id.in_(person_ids)))
    return {r[0]: r[1] for r in rows}


def not_acknowledged_names(session: Session, notice_id: int) -> list[str]:
    """Display names of recipients who have not acknowledged (only if the school allows)."""
    return list(
        session.scalars(
            select(Person.display_name)
            .join(NoticeDelivery, NoticeDelivery.person_id == Person.id)
            .where(
                NoticeDelivery.notice_id == notice_id,
                NoticeDelivery.acknowledged_at.is_(None),
            )
            .order_by(Person.display_name)
        )
    )


# ---------------------------------------------------------------- questions
def add_question(session: Session, notice_id: int, asker_id: int, text: str, now: datetime) -> int:
    question = NoticeQuestion(notice_id=notice_id, asker_id=asker_id, text=text, asked_at=now)
    session.add(question)
    session.flush()
    return question.id


def get_question(session: Session, question_id: int) -> QuestionInfo | None:
    row = session.execute(
        select(NoticeQuestion, Person.display_name, NoticeDelivery.role)
        .outerjoin(Person, Person.id == NoticeQuestion.asker_id)
        .outerjoin(
            NoticeDelivery,
            and_(
                NoticeDelivery.notice_id == NoticeQuestion.notice_id,
                NoticeDelivery.person_id == NoticeQuestion.asker_id,
            ),
        )
        .where(NoticeQuestion.id == question_id)
    ).first()
    if row is None:
        return None
    q, name, role = row
    return QuestionInfo(q.id, q.notice_id, q.asker_id, name or "", role or "", q.text, q.answer)


def answer_question(session: Session, question_id: int, answer: str, now: datetime) -> None:
    """Store the (latest) answer; a follow-up answer replaces the text, keeps it answered."""
    session.execute(
        update(NoticeQuestion)
        .where(NoticeQuestion.id == question_id)
        .values(answer=answer, answered_at=now)
    )


def relay_key(question_id: int) -> str:
    return f"{RELAY_KEY_PREFIX}{question_id}"


def question_for_relay(
    session: Session, channel: str, recipient: str, message_ids: list[str]
) -> int | None:
    """The question whose relay was sent to `recipient` as one of `message_ids`, if any."""
    key = session.scalar(
        select(OutboxMessage.idempotency_key)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.recipient == recipient,
            OutboxMessage.external_message_id.in_(message_ids),
            OutboxMessage.idempotency_key.like(f"{RELAY_KEY_PREFIX}%"),
        )
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    if key is None:
        return None
    number = key[len(RELAY_KEY_PREFIX) :].split(":", 1)[0]
    return int(number) if number.isdigit() else None


# ---------------------------------------------------------------- coverage
def coverage_counts(
    session: Session, notice_ids: list[int], receipt_channels: Collection[str] = ()
) -> dict[int, CoverageCounts]:
    """Counts per notice. Delivered: a receipt, an acknowledgement, or a sent outbox row on a
    channel where "sent" means delivered (every channel but `receipt_channels`, whose own
    `delivered` callback sets delivered_at)."""
    if not notice_ids:
        return {}
    sent = exists().where(
        OutboxMessage.notice_id == NoticeDelivery.notice_id,
        OutboxMessage.person_id == NoticeDelivery.person_id,
        OutboxMessage.status == "sent",
        OutboxMessage.channel.not_in(list(receipt_channels)),
    )
    delivered = (
        NoticeDelivery.delivered_at.is_not(None)
        | NoticeDelivery.acknowledged_at.is_not(None)
        | sent
    )
    rows = session.execute(
        select(
            NoticeDelivery.notice_id,
            func.count(),
            func.count().filter(delivered),
            func.count().filter(NoticeDelivery.seen_at.is_not(None)),
            func.count().filter(NoticeDelivery.acknowledged_at.is_not(None)),
        )
        .where(NoticeDelivery.notice_id.in_(notice_ids))
        .group_by(NoticeDelivery.notice_id)
    ).all()
    questions = {
        r[0]: (int(r[1]), int(r[2]))
        for r in session.execute(
            select(
                NoticeQuestion.notice_id,
                func.count(),
                func.count().filter(NoticeQuestion.answered_at.is_not(None)),
            )
            .where(NoticeQuestion.notice_id.in_(notice_ids))
            .group_by(NoticeQuestion.notice_id)
        ).all()
    }
    result = {
        nid: CoverageCounts(nid, 0, 0, 0, 0, *questions.get(nid, (0, 0))) for nid in notice_ids
    }
    for nid, total, got, seen, acked in rows:
        asked, answered = questions.get(nid, (0, 0))
        result[nid] = CoverageCounts(nid, total, got, seen, acked, asked, answered)
    return result
