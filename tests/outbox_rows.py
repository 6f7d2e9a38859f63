"""Outbox rows read back for assertions: what each recipient is about to get, and its state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from bot.engine.events import Reply
from storage.db import Database
from storage.models import OutboxMessage


@dataclass(frozen=True)
class OutboxRow:
    channel: str
    recipient: str
    person_id: int | None
    kind: str
    urgent: bool
    notice_id: int | None
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    external_message_id: str | None
    key: str
    reply: Reply


def outbox_rows(db: Database, kind: str | None = None) -> list[OutboxRow]:
    with db.read() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind is not None:
            query = query.where(OutboxMessage.kind == kind)
        return [
            OutboxRow(
                r.channel,
                r.recipient,
                r.person_id,
                r.kind,
                r.urgent,
                r.notice_id,
                r.status,
                r.attempts,
                r.next_attempt_at,
                r.last_error,
                r.external_message_id,
                r.idempotency_key,
                Reply.from_json(r.payload["reply"]),
            )
            for r in session.scalars(query)
        ]
