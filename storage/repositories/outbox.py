"""The outbox table: every outgoing message is a row first (enqueue), then sent by the sender."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from storage.models import OutboxMessage


@dataclass(frozen=True)
class NewMessage:
    channel: str
    recipient: str
    payload: dict[str, Any]
    idempotency_key: str
    person_id: int | None = None
    kind: str = "reply"
    urgent: bool = True
    notice_id: int | None = None
    not_before: datetime | None = None


def enqueue_many(session: Session, messages: list[NewMessage], now: datetime) -> int:
    """Insert messages whose idempotency key is new, in one statement. Returns how many."""
    if not messages:
        return 0
    keys = [m.idempotency_key for m in messages]
    existing: set[str] = set()
    for start in range(0, len(keys), 500):
        existing.update(
            session.scalars(
                select(OutboxMessage.idempotency_key).where(
                    OutboxMessage.idempotency_key.in_(keys[start : start + 500])
                )
            )
        )
    rows = []
    for m in messages:
        if m.idempotency_key in existing:
            continue
        existing.add(m.idempotency_key)
        rows.append(
            {
                "channel": m.channel,
                "recipient": m.recipient,
                "person_id": m.person_id,
                "kind": m.kind,
                "urgent": m.urgent,
                "payload": m.payload,
                "idempotency_key": m.idempotency_key,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": m.not_before or now,
                "created_at": now,
                "notice_id": m.notice_id,
            }
        )
    if rows:
        session.execute(insert(OutboxMessage), rows)
    return len(rows)
