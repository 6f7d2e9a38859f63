"""The outbox table: every outgoing message is a row first (enqueue), then sent by the sender.

A `sensitive` row (a reply that shows a person's answers, or follows their erasure) keeps its
content and its recipient only as long as delivering it needs: the statement that records it as
sent, failed or dropped also scrubs it (`finished`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    String,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    null,
    select,
    update,
)
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
    # Shows answers (or follows an erasure): scrubbed once finished; carries no person_id.
    sensitive: bool = False


_EXISTING_KEYS = select(OutboxMessage.idempotency_key).where(
    OutboxMessage.idempotency_key.in_(bindparam("keys", expanding=True))
)
_INSERT = insert(OutboxMessage.metadata.tables[OutboxMessage.__tablename__])


def enqueue_many(session: Session, messages: list[NewMessage], now: datetime) -> int:
    """Insert messages whose idempotency key is new, in one statement. Returns how many."""
    if not messages:
        return 0
    keys = [m.idempotency_key for m in messages]
    existing: set[str] = set()
    for start in range(0, len(keys), 500):
        existing.update(session.scalars(_EXISTING_KEYS, {"keys": keys[start : start + 500]}))
    rows = []
    for m in messages:
        if m.idempotency_key in existing:
            continue
        existing.add(m.idempotency_key)
        rows.append(
            {
                "channel": m.channel,
                "recipient": m.recipient,
                "person_id": None if m.sensitive else m.person_id,
                "kind": m.kind,
                "sensitive": m.sensitive,
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
        # The table, not the ORM entity: a plain executemany, without the ORM's bulk machinery
        # (most of an event's cost when every reply went through it).
        session.execute(_INSERT, rows)
    return len(rows)


# ------------------------------------------------------------------ scrubbing
SCRUBBED: dict[str, Any] = {"scrubbed": True}
FINISHED = ("sent", "failed", "dropped")


def finished(**values: Any) -> dict[str, Any]:
    """UPDATE values that finish a row (sent, failed, dropped) and, when it is sensitive, scrub
    it in the same statement: no payload, no person, no recipient, no platform message id, and an
    idempotency key that no longer names the chat. What is left says only that a message went
    out (or did not) at that time, so not even the number of a chat's survey messages remains."""
    sensitive = OutboxMessage.sensitive.is_(True)

    def unless_sensitive(scrubbed: Any, kept: Any) -> Any:
        return case((sensitive, scrubbed), else_=kept)

    external = values.pop("external_message_id", OutboxMessage.external_message_id)
    return {
        **values,
        "payload": unless_sensitive(literal(SCRUBBED, JSON), OutboxMessage.payload),
        "person_id": unless_sensitive(null(), OutboxMessage.person_id),
        "recipient": unless_sensitive(literal(""), OutboxMessage.recipient),
        "external_message_id": unless_sensitive(null(), external),
        "idempotency_key": unless_sensitive(
            literal("scrubbed:") + cast(OutboxMessage.id, String), OutboxMessage.idempotency_key
        ),
    }


# ------------------------------------------------------------------ the sender's side
# Statuses: pending -> sending (claimed, leased) -> sent | failed | dropped.
# A claimed row's next_attempt_at is its lease expiry: a sender that died leaves it to be
# claimed again once the lease runs out, so a crash re-sends only what was in flight.
CLAIMABLE = ("pending", "sending")


@dataclass(frozen=True)
class QueuedMessage:
    """A due outbox row, as the sender needs it."""

    id: int
    channel: str
    recipient: str
    payload: dict[str, Any]
    kind: str
    urgent: bool
    attempts: int
    person_id: int | None
    notice_id: int | None


def due_messages(
    session: Session,
    channel: str,
    now: datetime,
    limit: int,
    include_non_urgent: bool,
    urgent: bool | None = None,
) -> list[QueuedMessage]:
    """Due rows of a channel, urgent first, oldest first; locked (SKIP LOCKED) on PostgreSQL.

    `urgent`: only urgent rows (True), only the others (False), or both (None)."""
    query = (
        select(*_QUEUED_COLUMNS)
        .where(
            OutboxMessage.status.in_(CLAIMABLE),
            OutboxMessage.channel == channel,
            OutboxMessage.next_attempt_at <= now,
        )
        .order_by(OutboxMessage.urgent.desc(), OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if urgent is False and not include_non_urgent:
        return []
    if urgent is not None:
        query = query.where(OutboxMessage.urgent.is_(urgent))
    elif not include_non_urgent:
        query = query.where(OutboxMessage.urgent.is_(True))
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        # Several senders may run against PostgreSQL: each claims rows no other holds.
        query = query.with_for_update(skip_locked=True)
    # Plain rows, not ORM objects: nothing for the session to track, so the sender's UPDATEs
    # below need no synchronisation with it.
    return [
        QueuedMessage(
            id=row[0],
            channel=row[1],
            recipient=row[2],
            payload=dict(row[3]),
            kind=row[4],
            urgent=row[5],
            attempts=row[6],
            person_id=row[7],
            notice_id=row[8],
        )
        for row in session.execute(query)
    ]


_QUEUED_COLUMNS = (
    OutboxMessage.id,
    OutboxMessage.channel,
    OutboxMessage.recipient,
    OutboxMessage.payload,
    OutboxMessage.kind,
    OutboxMessage.urgent,
    OutboxMessage.attempts,
    OutboxMessage.person_id,
    OutboxMessage.notice_id,
)
# The sender's per-row statements, built once. Outbox rows are never loaded as ORM objects on
# the sender's side (`due_messages` reads plain rows): no session state to keep in step.
_CLAIM = (
    update(OutboxMessage)
    .where(OutboxMessage.id.in_(bindparam("b_ids", expanding=True)))
    .values(
        status="sending",
        attempts=OutboxMessage.attempts + 1,
        next_attempt_at=bindparam("b_until"),
    )
    .execution_options(synchronize_session=False)
)


def claim(session: Session, ids: list[int], lease_until: datetime) -> None:
    """Mark rows as being sent until `lease_until`; counts the attempt before it is made."""
    if ids:
        session.execute(_CLAIM, {"b_ids": ids, "b_until": lease_until})


def release(session: Session, until: dict[int, datetime]) -> None:
    """Put claimed rows back as pending, due at the given time, their attempt refunded."""
    for message_id, when in until.items():
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == "sending")
            .values(status="pending", next_attempt_at=when, attempts=OutboxMessage.attempts - 1)
        )


def reschedule(session: Session, until: dict[int, datetime]) -> None:
    """Move pending rows to a later due time (their chat is paced), no attempt counted."""
    for message_id, when in until.items():
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == "pending")
            .values(next_attempt_at=when)
        )


def release_recipient(session: Session, channel: str, recipient: str, until: datetime) -> None:
    """A recipient's other claimed rows go back to pending until `until` (after a 429)."""
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.recipient == recipient,
            OutboxMessage.status == "sending",
        )
        .values(status="pending", next_attempt_at=until, attempts=OutboxMessage.attempts - 1)
    )


def release_claims(session: Session, channels: list[str], now: datetime) -> int:
    """After a restart of the only sender: what it had claimed is due again at once."""
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == "sending", OutboxMessage.channel.in_(channels))
        .values(status="pending", next_attempt_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


_MARK_SENT = (
    update(OutboxMessage)
    .where(OutboxMessage.id == bindparam("b_id"))
    .values(
        finished(
            status="sent",
            sent_at=bindparam("b_now"),
            last_error=None,
            external_message_id=bindparam("b_external", type_=String()),
        )
    )
    .execution_options(synchronize_session=False)
)


def mark_sent(
    session: Session, message_id: int, now: datetime, external_message_id: str = ""
) -> None:
    session.execute(
        _MARK_SENT,
        {"b_id": message_id, "b_now": now, "b_external": external_message_id[:64] or None},
    )


def mark_retry(
    session: Session, message_id: int, when: datetime, error: str, refund: bool = False
) -> None:
    """Due again at `when`. `refund`: the attempt does not count (the platform said wait)."""
    values: dict[str, Any] = {
        "status": "pending",
        "next_attempt_at": when,
        "last_error": error[:500] or None,
    }
    if refund:
        values["attempts"] = OutboxMessage.attempts - 1
    session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values))


def mark_failed(session: Session, message_id: int, error: str, status: str = "failed") -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(finished(status=status, last_error=error[:500] or "failed"))
    )


def defer_recipient(session: Session, channel: str, recipient: str, until: datetime) -> None:
    """A 429 for one chat: nothing else for that chat goes out before `until`."""
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.recipient == recipient,
            OutboxMessage.status == "pending",
            OutboxMessage.next_attempt_at < until,
        )
        .values(next_attempt_at=until)
    )


def drop_claimed(session: Session, channel: str, recipient: str, reason: str) -> int:
    """Claimed rows of a recipient who turned out unreachable (pending ones: people.py)."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.recipient == recipient,
            OutboxMessage.status == "sending",
        )
        .values(finished(status="dropped", last_error=f"recipient unreachable: {reason}"[:500]))
    )
    return int(getattr(result, "rowcount", 0) or 0)


def next_due_at(session: Session, channels: list[str], include_non_urgent: bool) -> datetime | None:
    query = select(func.min(OutboxMessage.next_attempt_at)).where(
        OutboxMessage.status.in_(CLAIMABLE), OutboxMessage.channel.in_(channels)
    )
    if not include_non_urgent:
        query = query.where(OutboxMessage.urgent.is_(True))
    return session.scalar(query)


def counts(session: Session, channel: str | None = None) -> dict[str, int]:
    """Rows per status (for `classpulse` status output, tests and the benchmark)."""
    query = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    if channel is not None:
        query = query.where(OutboxMessage.channel == channel)
    return {status: int(n) for status, n in session.execute(query).all()}


@dataclass(frozen=True)
class SentMessage:
    """What was sent as a given platform message (to match a reply to a relayed message)."""

    id: int
    kind: str
    person_id: int | None
    notice_id: int | None
    payload: dict[str, Any]


def sent_message(
    session: Session, channel: str, recipient: str, external_message_id: str
) -> SentMessage | None:
    row = session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.recipient == recipient,
            OutboxMessage.external_message_id == external_message_id,
        )
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return SentMessage(row.id, row.kind, row.person_id, row.notice_id, dict(row.payload))


def purge_finished(session: Session, before: datetime) -> int:
    """Forget sent/failed/dropped rows older than `before` (receipts are kept until then)."""
    result = session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.status.in_(FINISHED), OutboxMessage.created_at < before
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
