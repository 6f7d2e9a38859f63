"""The engine's persisted conversation state and inbound deduplication."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import Conversation, ProcessedEvent


def load_state(session: Session, channel: str, external_id: str) -> dict[str, Any]:
    """The stored state, its row locked until commit (PostgreSQL; SQLite locks the file)."""
    row = session.scalars(
        select(Conversation)
        .where(Conversation.channel == channel, Conversation.external_id == external_id)
        .with_for_update()
    ).first()
    return dict(row.state) if row else {}


def save_state(
    session: Session, channel: str, external_id: str, state: dict[str, Any], now: datetime
) -> None:
    row = session.scalars(
        select(Conversation).where(
            Conversation.channel == channel, Conversation.external_id == external_id
        )
    ).first()
    if row is None:
        session.add(
            Conversation(
                channel=channel, external_id=external_id, state=state, version=1, updated_at=now
            )
        )
    else:
        row.state = state
        row.version += 1
        row.updated_at = now
    session.flush()


def first_delivery(session: Session, channel: str, event_key: str, now: datetime) -> bool:
    """Record an inbound delivery id; False if it was seen before (a duplicate)."""
    try:
        with session.begin_nested():
            session.add(ProcessedEvent(channel=channel, event_key=event_key[:128], seen_at=now))
            session.flush()
    except IntegrityError:
        return False
    return True


def prune_processed(session: Session, before: datetime) -> None:
    session.execute(delete(ProcessedEvent).where(ProcessedEvent.seen_at < before))
