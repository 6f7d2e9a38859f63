"""The bot's own identity per channel (Telegram username, Viber URI), as the running bot
reported it: commands that build links read it from here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.db import upsert_into
from storage.models import BotIdentity

MAX_VALUE = 200
# A chat's own command menu, as the bot last published it (bot/staff/command_menu.py): one
# fact per chat, keyed by the chat's id, so erasing a person erases theirs (people.forget).
MENU_KEY_PREFIX = "menu:"


def menu_key(account: str) -> str:
    return MENU_KEY_PREFIX + account


def remember(session: Session, channel: str, key: str, value: str, now: datetime) -> bool:
    """Store one fact; True if it changed. Empty or oversized values are ignored."""
    value = value.strip()
    if not value or len(value) > MAX_VALUE:
        return False
    row = session.get(BotIdentity, (channel, key))
    if row is not None and row.value == value:
        return False
    # An upsert: several processes starting at once all report the same fact.
    statement = upsert_into(session, BotIdentity).values(
        channel=channel, key=key, value=value, updated_at=now
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["channel", "key"], set_={"value": value, "updated_at": now}
        )
    )
    if row is not None:
        session.expire(row)
    return True


def recall(session: Session, channel: str, key: str) -> str:
    """The stored fact, or "" when the bot has not reported it yet."""
    return (
        session.scalar(
            select(BotIdentity.value).where(BotIdentity.channel == channel, BotIdentity.key == key)
        )
        or ""
    )


def recall_prefixed(session: Session, channel: str, prefix: str) -> dict[str, str]:
    """Every stored fact whose key starts with `prefix`, keyed by the rest of the key."""
    rows = session.execute(
        select(BotIdentity.key, BotIdentity.value).where(
            BotIdentity.channel == channel, BotIdentity.key.startswith(prefix, autoescape=True)
        )
    )
    return {key[len(prefix) :]: value for key, value in rows}


def forget(session: Session, channel: str, key: str) -> None:
    """Drop one stored fact (nothing if it is not there)."""
    session.execute(
        delete(BotIdentity).where(BotIdentity.channel == channel, BotIdentity.key == key)
    )
