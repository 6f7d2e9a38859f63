"""The engine's persisted conversation state and inbound deduplication."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from storage.db import upsert_into
from storage.models import Conversation, ProcessedEvent

# The per-event statements, built once (building one costs more than SQLite running it).
_LOAD_CHAT = (
    select(Conversation.state, Conversation.shown)
    .where(
        Conversation.channel == bindparam("b_channel"),
        Conversation.external_id == bindparam("b_chat"),
    )
    .with_for_update()
)
# No Conversation object is ever loaded into a session (only this module writes the table, by
# statements): nothing in a session to keep in step with an UPDATE.
_UPDATE_STATE = (
    update(Conversation)
    .where(
        Conversation.channel == bindparam("b_channel"),
        Conversation.external_id == bindparam("b_chat"),
    )
    .values(state=bindparam("new_state"), updated_at=bindparam("now"))
    .execution_options(synchronize_session=False)
)


def load_chat(session: Session, channel: str, external_id: str) -> tuple[dict[str, Any], str]:
    """The stored state and what the chat's last question message shows (`shown_in`), its
    row locked until commit (PostgreSQL; SQLite locks the file). One read per event."""
    row = session.execute(_LOAD_CHAT, {"b_channel": channel, "b_chat": external_id}).first()
    if row is None:
        return {}, ""
    return (dict(row[0]) if row[0] else {}), row[1] or ""


# The state of a chat that is nowhere (idle, nothing chosen): not worth a row with its chat id.
EMPTY_STATE: dict[str, Any] = {"mode": "idle", "lang": "", "data": {}}


def save_state(
    session: Session, channel: str, external_id: str, state: dict[str, Any], now: datetime
) -> None:
    """Store a chat's state; the empty state is stored as no row at all (after `/forget`).
    One UPDATE on every event but a chat's first (then an INSERT)."""
    if state == EMPTY_STATE:
        session.execute(
            delete(Conversation).where(
                Conversation.channel == channel, Conversation.external_id == external_id
            )
        )
        return
    result = session.execute(
        _UPDATE_STATE, {"b_channel": channel, "b_chat": external_id, "new_state": state, "now": now}
    )
    if not getattr(result, "rowcount", 0):
        session.add(
            Conversation(channel=channel, external_id=external_id, state=state, updated_at=now)
        )
        session.flush()


_REMEMBER_SHOWN = (
    update(Conversation)
    .where(
        Conversation.channel == bindparam("b_channel"),
        Conversation.external_id == bindparam("b_chat"),
    )
    .values(shown=bindparam("b_shown"))
    .execution_options(synchronize_session=False)
)


def remember_shown(
    session: Session, channel: str, external_id: str, position: str, message_id: str
) -> None:
    """The message `message_id` now shows `position` in this chat (no row: nothing to do)."""
    session.execute(
        _REMEMBER_SHOWN,
        {"b_channel": channel, "b_chat": external_id, "b_shown": f"{position}|{message_id}"[:120]},
    )


def shown_in(shown: str, position: str) -> str:
    """The platform message id in a chat's `shown` value if it shows `position`, or ""."""
    at, _, message_id = shown.partition("|")
    return message_id if at == position else ""


# An update seen before is a conflict on (channel, event_key): skipped without an error, so no
# savepoint is needed (PostgreSQL would otherwise abort the event's transaction). SQLite's
# rowcount says whether the row went in; on PostgreSQL the returned id does.
_PROCESSED = ProcessedEvent.metadata.tables[ProcessedEvent.__tablename__]
_SEEN_VALUES: dict[str, Any] = {
    "channel": bindparam("b_channel"),
    "event_key": bindparam("b_key"),
    "seen_at": bindparam("b_now"),
}
# Built once per dialect, on first use: only the dialect in use is imported (storage/db.py).
_SEEN: dict[str, Any] = {}


def _seen_statement(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    statement = _SEEN.get(dialect)
    if statement is None:
        statement = upsert_into(session, _PROCESSED).values(_SEEN_VALUES).on_conflict_do_nothing()
        if dialect == "postgresql":  # its rowcount does not tell a duplicate apart
            statement = statement.returning(_PROCESSED.c.id)
        _SEEN[dialect] = statement
    return statement


def first_delivery(session: Session, channel: str, event_key: str, now: datetime) -> bool:
    """Record an inbound delivery id; False if it was seen before (a duplicate)."""
    params = {"b_channel": channel, "b_key": event_key[:128], "b_now": now}
    result = session.execute(_seen_statement(session), params)
    if session.get_bind().dialect.name == "postgresql":
        return result.first() is not None
    return bool(getattr(result, "rowcount", 0))


def prune_processed(session: Session, before: datetime) -> None:
    session.execute(delete(ProcessedEvent).where(ProcessedEvent.seen_at < before))
