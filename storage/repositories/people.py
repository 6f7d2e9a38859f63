"""People, their messenger identities and their class memberships."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from storage.models import (
    Conversation,
    Draft,
    Identity,
    Membership,
    OutboxMessage,
    Person,
    ReminderLog,
    SchoolClass,
)
from storage.records import MembershipInfo, PersonInfo, Recipient


def person_for_identity(session: Session, channel: str, external_id: str) -> PersonInfo | None:
    person_id = session.scalar(
        select(Identity.person_id).where(
            Identity.channel == channel, Identity.external_id == external_id
        )
    )
    return person_info(session, person_id) if person_id is not None else None


def person_info(session: Session, person_id: int) -> PersonInfo | None:
    person = session.get(Person, person_id)
    if person is None:
        return None
    rows = session.execute(
        select(Membership.class_id, SchoolClass.name, Membership.role)
        .outerjoin(SchoolClass, SchoolClass.id == Membership.class_id)
        .where(Membership.person_id == person_id)
        .order_by(SchoolClass.name, Membership.role)
    ).all()
    return PersonInfo(
        id=person.id,
        display_name=person.display_name,
        language=person.language,
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
    """Erase identity, memberships, drafts and queued messages. Anonymous responses stay."""
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
                OutboxMessage.channel == channel,
                OutboxMessage.recipient == external_id,
                OutboxMessage.status == "pending",
            )
        )
    session.execute(delete(Identity).where(Identity.person_id == person_id))
    session.execute(delete(Membership).where(Membership.person_id == person_id))
    session.execute(delete(Draft).where(Draft.person_id == person_id))
    session.execute(delete(ReminderLog).where(ReminderLog.person_id == person_id))
    # The row stays, emptied, so that completion counts of past waves remain true.
    session.execute(
        update(Person)
        .where(Person.id == person_id)
        .values(display_name="", consent_at=None, language="uk")
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
        .values(status="dropped", last_error=f"recipient unreachable: {reason}"[:500])
    )
    return int(getattr(result, "rowcount", 0) or 0)


def mark_reachable(session: Session, channel: str, external_id: str) -> None:
    """A user who wrote to us again is reachable again."""
    session.execute(
        update(Identity)
        .where(
            Identity.channel == channel,
            Identity.external_id == external_id,
            Identity.unreachable_at.is_not(None),
        )
        .values(unreachable_at=None, unreachable_reason=None)
    )


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
