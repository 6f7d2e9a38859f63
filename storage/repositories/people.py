"""People, their messenger identities and their class memberships."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Text, bindparam, cast, delete, select, update
from sqlalchemy.orm import Session

from storage.models import (
    Completion,
    Conversation,
    Draft,
    FormsImportRequest,
    GroupBinding,
    Identity,
    Membership,
    MessengerSession,
    Notice,
    NoticeDelivery,
    NoticeQuestion,
    OutboxMessage,
    Person,
    ReminderLog,
    ReportRequest,
    SchoolClass,
    StaffAudit,
)
from storage.records import STAFF_ROLES, MembershipInfo, PersonInfo, Recipient
from storage.repositories import identity
from storage.repositories.criteria import RELAY_KEY_PREFIX
from storage.repositories.outbox import FINISHED, SCRUBBED, finished

_PERSON_BY_IDENTITY = (
    select(Person.id, Person.display_name, Person.language)
    .join(Identity, Identity.person_id == Person.id)
    .where(Identity.channel == bindparam("channel"), Identity.external_id == bindparam("external"))
)
_MEMBERSHIPS = (
    select(Membership.class_id, SchoolClass.name, Membership.role)
    .outerjoin(SchoolClass, SchoolClass.id == Membership.class_id)
    .where(Membership.person_id == bindparam("person_id"))
    .order_by(SchoolClass.name, Membership.role)
)


def person_for_identity(session: Session, channel: str, external_id: str) -> PersonInfo | None:
    """The person behind a messenger account (asked on every event: two light reads)."""
    row = session.execute(
        _PERSON_BY_IDENTITY, {"channel": channel, "external": external_id}
    ).first()
    return _with_memberships(session, row[0], row[1], row[2]) if row else None


def person_info(session: Session, person_id: int) -> PersonInfo | None:
    person = session.get(Person, person_id)
    if person is None:
        return None
    return _with_memberships(session, person.id, person.display_name, person.language)


def _with_memberships(
    session: Session, person_id: int, display_name: str, language: str
) -> PersonInfo:
    rows = session.execute(_MEMBERSHIPS, {"person_id": person_id}).all()
    return PersonInfo(
        id=person_id,
        display_name=display_name,
        language=language,
        memberships=tuple(MembershipInfo(r[0], r[1] or "", r[2]) for r in rows),
    )


def register(
    session: Session,
    channel: str,
    external_id: str,
    display_name: str,
    language: str,
    now: datetime,
) -> int:
    """Create the person behind a messenger account (or return the existing one)."""
    existing = session.scalar(
        select(Identity.person_id).where(
            Identity.channel == channel, Identity.external_id == external_id
        )
    )
    if existing is not None:
        return existing
    person = Person(display_name=display_name[:200], language=language, consent_at=now)
    session.add(person)
    session.flush()
    session.add(Identity(person_id=person.id, channel=channel, external_id=external_id))
    session.flush()
    return person.id


def add_membership(session: Session, person_id: int, class_id: int | None, role: str) -> bool:
    """Add a class role; False if the person already had it."""
    exists = session.scalar(
        select(Membership.id).where(
            Membership.person_id == person_id,
            Membership.class_id.is_(None) if class_id is None else Membership.class_id == class_id,
            Membership.role == role,
        )
    )
    if exists is not None:
        return False
    session.add(Membership(person_id=person_id, class_id=class_id, role=role))
    session.flush()
    return True


def set_language(session: Session, person_id: int, language: str) -> None:
    session.execute(update(Person).where(Person.id == person_id).values(language=language))


def forget(session: Session, person_id: int) -> None:
    """`/forget`: delete every row that carries this person's identity. Anonymous responses stay.

    Gone: the person, their messenger accounts and conversation states, classes, drafts,
    completions and reminders, receipts of criteria notices, their questions to teachers (and
    the relays of them, which carry their name), and every outbox row to their chats or about
    them, whatever its status. Rows that only point at them (a notice they wrote, a group they
    bound) lose the pointer. Finished messages to others that carry their name (a relayed
    question, a coverage list) are scrubbed. The reply that confirms the erasure is queued after
    this, sensitive: it is scrubbed as soon as it is sent.
    """
    person = session.get(Person, person_id)
    if person is None:
        return
    name = person.display_name
    identities = session.execute(
        select(Identity.channel, Identity.external_id).where(Identity.person_id == person_id)
    ).all()
    for channel, external_id in identities:
        session.execute(
            delete(Conversation).where(
                Conversation.channel == channel, Conversation.external_id == external_id
            )
        )
        session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.channel == channel, OutboxMessage.recipient == external_id
            )
        )
    session.execute(delete(OutboxMessage).where(OutboxMessage.person_id == person_id))
    questions = list(
        session.scalars(select(NoticeQuestion.id).where(NoticeQuestion.asker_id == person_id))
    )
    for question_id in questions:
        session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.idempotency_key.like(f"{RELAY_KEY_PREFIX}{question_id}:%")
            )
        )
    session.execute(delete(NoticeQuestion).where(NoticeQuestion.asker_id == person_id))
    if len(name) >= MIN_NAME_TO_SCRUB:
        _scrub_finished_mentions(session, name)
    session.execute(update(Notice).where(Notice.author_id == person_id).values(author_id=None))
    session.execute(
        update(GroupBinding).where(GroupBinding.bound_by == person_id).values(bound_by=None)
    )
    # The staff audit keeps what was done, not by or to whom once that person is forgotten.
    session.execute(
        update(StaffAudit)
        .where(StaffAudit.actor_id == person_id)
        .values(actor_id=None, actor_name=FORGOTTEN)
    )
    session.execute(
        update(StaffAudit)
        .where(StaffAudit.target_id == person_id)
        .values(target_id=None, target_name=FORGOTTEN)
    )
    session.execute(delete(ReportRequest).where(ReportRequest.person_id == person_id))
    session.execute(delete(FormsImportRequest).where(FormsImportRequest.person_id == person_id))
    for channel, external_id in identities:  # when their free messaging session ends
        session.execute(
            delete(MessengerSession).where(
                MessengerSession.channel == channel, MessengerSession.external_id == external_id
            )
        )
        # The menu a staff member's chat was given names the chat: it goes too (a running bot
        # still takes the menu back in Telegram; a stopped one leaves refused commands there).
        identity.forget(session, channel, identity.menu_key(external_id))
    for model in (NoticeDelivery, ReminderLog, Completion, Draft, Membership, Identity):
        session.execute(delete(model).where(model.person_id == person_id))
    session.execute(delete(Person).where(Person.id == person_id))


FORGOTTEN = "—"  # what the audit shows for someone who used /forget
MIN_NAME_TO_SCRUB = 3  # a one- or two-letter name would match too much to be meaningful


def _scrub_finished_mentions(session: Session, name: str) -> None:
    """Finished outbox rows whose payload mentions `name` lose the payload."""
    # The payload is stored as JSON text: look for the name as the JSON encoder wrote it.
    encoded = json.dumps(name)[1:-1]
    escaped = encoded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status.in_(FINISHED),
            cast(OutboxMessage.payload, Text).like(f"%{escaped}%", escape="\\"),
        )
        .values(payload=SCRUBBED)
    )


def mark_unreachable(
    session: Session, channel: str, external_id: str, reason: str, now: datetime
) -> int:
    """The user blocked the bot or unsubscribed: stop writing to them. Returns dropped count."""
    session.execute(
        update(Identity)
        .where(Identity.channel == channel, Identity.external_id == external_id)
        .values(unreachable_at=now, unreachable_reason=reason[:200])
    )
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.recipient == external_id,
            OutboxMessage.status == "pending",
        )
        .values(finished(status="dropped", last_error=f"recipient unreachable: {reason}"[:500]))
    )
    return int(getattr(result, "rowcount", 0) or 0)


# The first statement of every event's transaction, when the session holds no Identity object
# to keep in step with it.
_MARK_REACHABLE = (
    update(Identity)
    .where(
        Identity.channel == bindparam("b_channel"),
        Identity.external_id == bindparam("b_external"),
        Identity.unreachable_at.is_not(None),
    )
    .values(unreachable_at=None, unreachable_reason=None)
    .execution_options(synchronize_session=False)
)


def mark_reachable(session: Session, channel: str, external_id: str) -> None:
    """A user who wrote to us again is reachable again."""
    session.execute(_MARK_REACHABLE, {"b_channel": channel, "b_external": external_id})


def reachable_identities(session: Session, person_id: int) -> list[tuple[str, str]]:
    rows = session.execute(
        select(Identity.channel, Identity.external_id)
        .where(Identity.person_id == person_id, Identity.unreachable_at.is_(None))
        .order_by(Identity.id)
    ).all()
    return [(r[0], r[1]) for r in rows]


def recipients(session: Session, class_ids: list[int], roles: tuple[str, ...]) -> list[Recipient]:
    """Reachable messenger accounts of people with one of `roles` in one of `class_ids`.

    One row per (person, identity); a person in two of the classes appears once, with the first.
    """
    rows = session.execute(
        select(
            Membership.person_id,
            Membership.role,
            Membership.class_id,
            Identity.channel,
            Identity.external_id,
            Person.language,
        )
        .join(Identity, Identity.person_id == Membership.person_id)
        .join(Person, Person.id == Membership.person_id)
        .where(
            Membership.class_id.in_(class_ids),
            Membership.role.in_(roles),
            Identity.unreachable_at.is_(None),
        )
        .order_by(Membership.person_id, Identity.id, Membership.class_id)
    ).all()
    seen: set[tuple[int, str, str]] = set()
    out = []
    for person_id, role, class_id, channel, external_id, language in rows:
        key = (person_id, channel, external_id)
        if key in seen:
            continue
        seen.add(key)
        out.append(Recipient(person_id, role, class_id, channel, external_id, language))
    return out


def staff_with_school_role(session: Session, roles: tuple[str, ...]) -> list[int]:
    return list(
        session.scalars(select(Membership.person_id).where(Membership.role.in_(roles)).distinct())
    )


def registered_counts(session: Session) -> list[tuple[int | None, str, int]]:
    """(class_id, role, people) for every class and role: the denominators of response rates."""
    from sqlalchemy import func

    rows = session.execute(
        select(
            Membership.class_id, Membership.role, func.count(Membership.person_id.distinct())
        ).group_by(Membership.class_id, Membership.role)
    ).all()
    return [(r[0], r[1], int(r[2])) for r in rows]


def staff_on_channel(session: Session, channel: str) -> list[tuple[str, PersonInfo]]:
    """(account id, person) of everyone with a staff role reachable on `channel`: who gets a
    command menu of their own."""
    staff_ids = (
        select(Membership.person_id).where(Membership.role.in_(STAFF_ROLES)).scalar_subquery()
    )
    accounts = session.execute(
        select(Identity.external_id, Identity.person_id)
        .where(
            Identity.channel == channel,
            Identity.unreachable_at.is_(None),
            Identity.person_id.in_(staff_ids),
        )
        .order_by(Identity.external_id)
    ).all()
    infos = {pid: person_info(session, pid) for pid in {pid for _, pid in accounts}}
    return [(ext, info) for ext, pid in accounts if (info := infos[pid]) is not None]
