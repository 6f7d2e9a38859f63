"""Delivery receipts for notices, and counters of events that are only counted.

A channel reports `delivered` / `seen` per sent message id and user. Only messages that carry a
notice matter (the criteria coverage counts them); the rest are ignored. A broadcast shares one
message id among many rows, so the recipient is part of the lookup.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import ChannelCounter, NoticeDelivery, OutboxMessage

RECEIPTS = ("delivered", "seen")


def record_receipt(
    session: Session, channel: str, message_id: str, recipient: str, kind: str, now: datetime
) -> bool:
    """Stamp the notice delivery behind a sent message. False if it carries no notice."""
    if kind not in RECEIPTS:
        raise ValueError(f"unknown receipt {kind!r}")
    row = session.execute(
        select(OutboxMessage.notice_id, OutboxMessage.person_id)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.external_message_id == message_id,
            OutboxMessage.recipient == recipient,
            OutboxMessage.notice_id.is_not(None),
            OutboxMessage.person_id.is_not(None),
        )
        .limit(1)
    ).first()
    if row is None:
        return False
    notice_id, person_id = row
    target = (NoticeDelivery.notice_id == notice_id, NoticeDelivery.person_id == person_id)
    # The first receipt wins; seen implies delivered (receipts can arrive out of order).
    session.execute(
        update(NoticeDelivery)
        .where(*target, NoticeDelivery.delivered_at.is_(None))
        .values(delivered_at=now)
    )
    if kind == "seen":
        session.execute(
            update(NoticeDelivery)
            .where(*target, NoticeDelivery.seen_at.is_(None))
            .values(seen_at=now)
        )
    return True


def bump_counter(session: Session, channel: str, name: str, by: int = 1) -> None:
    """Add to a named counter, creating it on first use (safe against a concurrent insert)."""
    where = (ChannelCounter.channel == channel, ChannelCounter.name == name)
    result = session.execute(
        update(ChannelCounter).where(*where).values(value=ChannelCounter.value + by)
    )
    if getattr(result, "rowcount", 0):
        return
    try:
        with session.begin_nested():
            session.add(ChannelCounter(channel=channel, name=name[:40], value=by))
            session.flush()
    except IntegrityError:
        session.execute(
            update(ChannelCounter).where(*where).values(value=ChannelCounter.value + by)
        )


def counter(session: Session, channel: str, name: str) -> int:
    value = session.scalar(
        select(func.coalesce(func.sum(ChannelCounter.value), 0)).where(
            ChannelCounter.channel == channel, ChannelCounter.name == name
        )
    )
    return int(value or 0)
