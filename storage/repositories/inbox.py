"""The inbox: inbound updates stored before they are acknowledged, processed exactly once.

`store` runs in the transaction that must commit before the platform is told the update
arrived (Telegram's getUpdates offset moves on, a webhook answers 200). Workers `claim` the
oldest update of each chat that nobody holds, process it, and `finish` it (the row is deleted:
the answer's text does not stay next to the sender's id). A worker that dies leaves its claims;
they are taken again once `claimed_until` passes. Processing the same update twice is harmless:
the chat service keeps processed update ids (`conversations.first_delivery`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from storage.models import InboxUpdate


@dataclass(frozen=True)
class NewUpdate:
    update_key: str  # the platform's delivery id (Telegram update_id, Viber message token)
    chat: str  # updates of one chat are processed in order
    payload: dict[str, Any]


@dataclass(frozen=True)
class StoredUpdate:
    id: int
    channel: str
    update_key: str
    chat: str
    payload: dict[str, Any]
    attempts: int


def store(session: Session, channel: str, updates: list[NewUpdate], now: datetime) -> int:
    """Insert updates not already waiting (a platform's re-delivery); returns how many."""
    if not updates:
        return 0
    keys = [u.update_key[:128] for u in updates]
    waiting = set(
        session.scalars(
            select(InboxUpdate.update_key).where(
                InboxUpdate.channel == channel, InboxUpdate.update_key.in_(keys)
            )
        )
    )
    added = 0
    for u, key in zip(updates, keys, strict=True):
        if key in waiting:
            continue
        waiting.add(key)
        session.add(
            InboxUpdate(
                channel=channel,
                update_key=key,
                chat=u.chat[:128],
                payload=u.payload,
                received_at=now,
                attempts=0,
            )
        )
        added += 1
    session.flush()
    return added


def claim(
    session: Session, channel: str, now: datetime, lease: timedelta, limit: int
) -> list[StoredUpdate]:
    """The oldest update of each chat whose oldest update nobody holds, up to `limit`."""
    older = aliased(InboxUpdate)
    query = (
        select(InboxUpdate)
        .where(
            InboxUpdate.channel == channel,
            or_(InboxUpdate.claimed_until.is_(None), InboxUpdate.claimed_until <= now),
            ~select(older.id)
            .where(
                older.channel == InboxUpdate.channel,
                older.chat == InboxUpdate.chat,
                older.id < InboxUpdate.id,
            )
            .exists(),
        )
        .order_by(InboxUpdate.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=InboxUpdate)
    claimed = [
        StoredUpdate(r.id, r.channel, r.update_key, r.chat, dict(r.payload), r.attempts + 1)
        for r in session.scalars(query)
    ]
    if claimed:
        session.execute(
            update(InboxUpdate)
            .where(InboxUpdate.id.in_([r.id for r in claimed]))
            .values(claimed_until=now + lease, attempts=InboxUpdate.attempts + 1),
            execution_options={"synchronize_session": False},
        )
    return claimed


def finish(session: Session, update_ids: list[int]) -> None:
    """Processed (or given up on): forget them (the worker's next claim pass)."""
    if update_ids:
        session.execute(delete(InboxUpdate).where(InboxUpdate.id.in_(update_ids)))


def retry_at(session: Session, update_id: int, when: datetime) -> None:
    """Processing failed: the chat waits, and the update is taken again at `when`."""
    session.execute(
        update(InboxUpdate).where(InboxUpdate.id == update_id).values(claimed_until=when)
    )


def waiting(session: Session, channel: str | None = None) -> int:
    query = select(func.count()).select_from(InboxUpdate)
    if channel is not None:
        query = query.where(InboxUpdate.channel == channel)
    return int(session.scalar(query) or 0)


def release(session: Session, ids: list[int]) -> None:
    """Give claims back (a stopping worker): the updates are due at once."""
    if ids:
        session.execute(
            update(InboxUpdate).where(InboxUpdate.id.in_(ids)).values(claimed_until=None)
        )


def release_claims(session: Session, channel: str) -> int:
    """After a restart of the only worker (SQLite): everything it had claimed is due now."""
    result = session.execute(
        update(InboxUpdate)
        .where(InboxUpdate.channel == channel, InboxUpdate.claimed_until.is_not(None))
        .values(claimed_until=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)
