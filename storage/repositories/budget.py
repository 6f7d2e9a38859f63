"""The send budget shared by every process of a channel (bot/delivery/budget.py decides).

Rows are GCRA "theoretical arrival times" in epoch seconds: key "*" is the channel's overall
pace, any other key one chat's. `lock_channel` takes the channel's row for the transaction
(FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers), so the
claims of several senders are booked one after another.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.db import upsert_into
from storage.models import SendBudget

CHANNEL_KEY = "*"


def _insert(session: Session) -> Any:
    return upsert_into(session, SendBudget)


def lock_channel(session: Session, channel: str) -> float:
    """The channel's overall tat, its row locked until the transaction ends."""
    session.execute(
        _insert(session)
        .values(channel=channel, key=CHANNEL_KEY, tat=0.0)
        .on_conflict_do_nothing(index_elements=["channel", "key"])
    )
    query = select(SendBudget.tat).where(
        SendBudget.channel == channel, SendBudget.key == CHANNEL_KEY
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return float(session.scalar(query) or 0.0)


def chat_tats(session: Session, channel: str, chats: list[str]) -> dict[str, float]:
    found: dict[str, float] = {}
    for start in range(0, len(chats), 500):
        rows = session.execute(
            select(SendBudget.key, SendBudget.tat).where(
                SendBudget.channel == channel, SendBudget.key.in_(chats[start : start + 500])
            )
        )
        found.update({key: float(tat) for key, tat in rows})
    return found


def save(session: Session, channel: str, tats: dict[str, float]) -> None:
    """Upsert tats (the channel's under CHANNEL_KEY, chats' under their ids)."""
    if not tats:
        return
    statement = _insert(session).values(
        [{"channel": channel, "key": key[:128], "tat": tat} for key, tat in tats.items()]
    )
    statement = statement.on_conflict_do_update(
        index_elements=["channel", "key"], set_={"tat": statement.excluded.tat}
    )
    session.execute(statement)


def prune(session: Session, channel: str, before: float) -> int:
    """Forget chats whose pace no longer holds anything back."""
    result = session.execute(
        delete(SendBudget).where(
            SendBudget.channel == channel,
            SendBudget.key != CHANNEL_KEY,
            SendBudget.tat < before,
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
