"""Drafts (in-progress answers), anonymous responses and completion records."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import Answer, Completion, Draft, Response
from storage.records import DraftInfo


def get_draft(
    session: Session, wave_id: int, person_id: int, for_update: bool = False
) -> DraftInfo | None:
    """The draft; `for_update` locks its row (PostgreSQL) so two devices answer in turn."""
    query = select(Draft).where(Draft.wave_id == wave_id, Draft.person_id == person_id)
    row = session.scalars(query.with_for_update() if for_update else query).first()
    if row is None:
        return None
    return DraftInfo(row.wave_id, row.class_id, dict(row.answers), row.position)


def save_draft(
    session: Session,
    wave_id: int,
    person_id: int,
    class_id: int | None,
    answers: dict[str, Any],
    position: int,
    now: datetime,
) -> None:
    row = session.scalars(
        select(Draft).where(Draft.wave_id == wave_id, Draft.person_id == person_id)
    ).first()
    if row is None:
        session.add(
            Draft(
                wave_id=wave_id,
                person_id=person_id,
                class_id=class_id,
                answers=answers,
                position=position,
                updated_at=now,
            )
        )
    else:
        row.answers = dict(answers)
        row.position = position
        row.updated_at = now
    session.flush()


def is_completed(session: Session, wave_id: int, person_id: int) -> bool:
    return (
        session.scalar(
            select(Completion.id).where(
                Completion.wave_id == wave_id, Completion.person_id == person_id
            )
        )
        is not None
    )


def answer_rows(response_id: str, wave_id: int, answers: dict[str, Any]) -> list[dict[str, Any]]:
    """Flatten {question: option index | [indexes] | text} into `answers` rows."""
    rows: list[dict[str, Any]] = []
    for question_id, value in answers.items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            base = {"response_id": response_id, "wave_id": wave_id, "question_id": question_id}
            if isinstance(item, int) and not isinstance(item, bool):
                rows.append({**base, "option_index": item, "text": None})
            elif isinstance(item, dict) and "other" in item:
                rows.append({**base, "option_index": None, "text": str(item["other"])})
            elif isinstance(item, str) and item.strip():
                rows.append({**base, "option_index": None, "text": item})
    return rows


def submit(
    session: Session,
    *,
    survey_id: int,
    wave_id: int,
    person_id: int,
    class_id: int | None,
    role: str,
    answers: dict[str, Any],
    today: date,
) -> bool:
    """Store the anonymous response and the completion in one transaction.

    Returns False (and writes nothing) if this person has already completed the wave.
    """
    try:
        with session.begin_nested():
            session.add(Completion(wave_id=wave_id, person_id=person_id))
            session.flush()
    except IntegrityError:
        return False
    add_response(
        session,
        survey_id=survey_id,
        wave_id=wave_id,
        class_id=class_id,
        role=role,
        answers=answers,
        submitted_on=today,
    )
    session.execute(delete(Draft).where(Draft.wave_id == wave_id, Draft.person_id == person_id))
    return True


def add_response(
    session: Session,
    *,
    survey_id: int,
    wave_id: int,
    class_id: int | None,
    role: str,
    answers: dict[str, Any],
    submitted_on: date,
) -> str:
    """Store one anonymous response (also used by imports, which have no person)."""
    response = Response(
        survey_id=survey_id,
        wave_id=wave_id,
        class_id=class_id,
        role=role,
        submitted_on=submitted_on,
    )
    session.add(response)
    session.flush()
    rows = answer_rows(response.id, wave_id, answers)
    if rows:
        session.execute(insert(Answer), rows)
    return response.id


def response_count(session: Session, wave_id: int) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(Response).where(Response.wave_id == wave_id)
        )
        or 0
    )


def response_counts_by_class_role(
    session: Session, wave_id: int
) -> list[tuple[int | None, str, int]]:
    rows = session.execute(
        select(Response.class_id, Response.role, func.count())
        .where(Response.wave_id == wave_id)
        .group_by(Response.class_id, Response.role)
    ).all()
    return [(r[0], r[1], int(r[2])) for r in rows]
