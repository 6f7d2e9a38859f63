"""Survey reminders: who completed a wave, and how often each person was reminded of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from storage.models import Completion, OutboxMessage, ReminderLog


@dataclass(frozen=True)
class ReminderState:
    count: int
    last_sent_at: datetime | None


def completed_people(session: Session, wave_id: int) -> set[int]:
    return set(session.scalars(select(Completion.person_id).where(Completion.wave_id == wave_id)))


def reminder_states(session: Session, wave_id: int) -> dict[int, ReminderState]:
    rows = session.execute(
        select(ReminderLog.person_id, ReminderLog.count, ReminderLog.last_sent_at).where(
            ReminderLog.wave_id == wave_id
        )
    ).all()
    return {r[0]: ReminderState(r[1], r[2]) for r in rows}


def record_reminder(session: Session, wave_id: int, person_id: int, now: datetime) -> int:
    """Count one more reminder for (wave, person); returns the new count."""
    row = session.scalar(
        select(ReminderLog).where(
            ReminderLog.wave_id == wave_id, ReminderLog.person_id == person_id
        )
    )
    if row is None:
        row = ReminderLog(wave_id=wave_id, person_id=person_id, count=0)
        session.add(row)
    row.count += 1
    row.last_sent_at = now
    session.flush()
    return row.count


def reminder_key(wave_id: int, person_id: int) -> str:
    """The start of the outbox keys of a person's reminders of a wave (scheduled, `rem:`)."""
    return f"rem:{wave_id}:{person_id}:"


def nudge_key(wave_id: int, person_id: int) -> str:
    """The start of the outbox keys of a person's nudges of a wave (asked for by staff)."""
    return f"nudge:{wave_id}:{person_id}:"


def drop_pending_reminders(session: Session, wave_id: int, person_id: int) -> int:
    """Who has just completed the wave gets no reminder still waiting for its hour."""
    result = session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.status == "pending",
            or_(
                OutboxMessage.idempotency_key.startswith(reminder_key(wave_id, person_id)),
                OutboxMessage.idempotency_key.startswith(nudge_key(wave_id, person_id)),
            ),
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
