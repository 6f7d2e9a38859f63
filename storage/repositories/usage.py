"""Subscriber sessions and message usage of billed channels (Viber's commercial model).

A session is the window after a subscriber wrote in which the bot's messages are free; one row
per account, overwritten, deleted some weeks after it has ended (housekeeping: its start
is the subscriber's best hour for a reminder) or by /forget. Usage is a counter per
channel, school day and billing class (`session` free, `initiated` paid).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import MessageUsage, MessengerSession

SESSION = "session"
INITIATED = "initiated"
BILLING = (SESSION, INITIATED)


def open_session(session: Session, channel: str, external_id: str, ends_at: datetime) -> None:
    """The subscriber wrote: their session now ends at `ends_at` (never moved earlier)."""
    where = (MessengerSession.channel == channel, MessengerSession.external_id == external_id)
    found = session.execute(
        update(MessengerSession)
        .where(*where, MessengerSession.ends_at < ends_at)
        .values(ends_at=ends_at)
    )
    if getattr(found, "rowcount", 0):
        return
    if session.scalar(select(MessengerSession.id).where(*where)) is not None:
        return  # already ends later
    try:
        with session.begin_nested():
            session.add(MessengerSession(channel=channel, external_id=external_id, ends_at=ends_at))
            session.flush()
    except IntegrityError:  # a concurrent first message: theirs is as good as ours
        pass


def session_ends(
    session: Session, channel: str, external_ids: Iterable[str]
) -> dict[str, datetime]:
    """When each account's session ends; accounts without a session are left out."""
    ids = list(dict.fromkeys(external_ids))
    found: dict[str, datetime] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = session.execute(
            select(MessengerSession.external_id, MessengerSession.ends_at).where(
                MessengerSession.channel == channel, MessengerSession.external_id.in_(chunk)
            )
        )
        found.update({external_id: ends_at for external_id, ends_at in rows})
    return found


def forget_sessions(session: Session, before: datetime) -> int:
    """Delete sessions that ended before `before`: they decide nothing any more."""
    result = session.execute(delete(MessengerSession).where(MessengerSession.ends_at < before))
    return int(getattr(result, "rowcount", 0) or 0)


def add_usage(session: Session, channel: str, day: date, billing: str, count: int = 1) -> None:
    if billing not in BILLING:
        raise ValueError(f"unknown billing class {billing!r}")
    if count <= 0:
        return
    where = (
        MessageUsage.channel == channel,
        MessageUsage.day == day,
        MessageUsage.billing == billing,
    )
    result = session.execute(
        update(MessageUsage).where(*where).values(count=MessageUsage.count + count)
    )
    if getattr(result, "rowcount", 0):
        return
    try:
        with session.begin_nested():
            session.add(MessageUsage(channel=channel, day=day, billing=billing, count=count))
            session.flush()
    except IntegrityError:
        session.execute(update(MessageUsage).where(*where).values(count=MessageUsage.count + count))


@dataclass(frozen=True)
class DayUsage:
    day: date
    session: int
    initiated: int


def usage_by_day(session: Session, channel: str, since: date, until: date) -> list[DayUsage]:
    """Days from `since` to `until` (inclusive) with any message, oldest first."""
    rows = session.execute(
        select(MessageUsage.day, MessageUsage.billing, MessageUsage.count).where(
            MessageUsage.channel == channel,
            MessageUsage.day >= since,
            MessageUsage.day <= until,
        )
    )
    days: dict[date, dict[str, int]] = {}
    for day, billing, count in rows:
        days.setdefault(day, {})[billing] = int(count)
    return [
        DayUsage(day, counts.get(SESSION, 0), counts.get(INITIATED, 0))
        for day, counts in sorted(days.items())
    ]


def total(session: Session, channel: str, billing: str, since: date, until: date) -> int:
    value = session.scalar(
        select(func.coalesce(func.sum(MessageUsage.count), 0)).where(
            MessageUsage.channel == channel,
            MessageUsage.billing == billing,
            MessageUsage.day >= since,
            MessageUsage.day <= until,
        )
    )
    return int(value or 0)
