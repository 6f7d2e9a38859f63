"""Drafts (in-progress answers), anonymous responses and completion records.

What makes a response unlinkable to its completion is explained in docs/privacy.md."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import Answer, Completion, Draft, Response
from storage.records import DraftInfo

_DRAFT = select(Draft.wave_id, Draft.class_id, Draft.answers, Draft.position).where(
    Draft.wave_id == bindparam("b_wave"), Draft.person_id == bindparam("b_person")
)
_DRAFT_FOR_UPDATE = _DRAFT.with_for_update()
# Drafts are read and written by statements only (no Draft object is loaded into a session):
# nothing in a session to keep in step with the UPDATE.
_UPDATE_DRAFT = (
    update(Draft)
    .where(Draft.wave_id == bindparam("b_wave"), Draft.person_id == bindparam("b_person"))
    .values(
        answers=bindparam("new_answers"),
        position=bindparam("new_position"),
        updated_at=bindparam("now"),
    )
    .execution_options(synchronize_session=False)
)


def get_draft(
    session: Session, wave_id: int, person_id: int, for_update: bool = False
) -> DraftInfo | None:
    """The draft; `for_update` locks its row (PostgreSQL) so two devices answer in turn."""
    row = session.execute(
        _DRAFT_FOR_UPDATE if for_update else _DRAFT, {"b_wave": wave_id, "b_person": person_id}
    ).first()
    if row is None:
        return None
    return DraftInfo(row[0], row[1], dict(row[2]), row[3])


def save_draft(
    session: Session,
    wave_id: int,
    person_id: int,
    class_id: int | None,
    answers: dict[str, Any],
    position: int,
    now: datetime,
) -> None:
    """Store the answers so far: one UPDATE, or an INSERT for the survey's first answer (the
    draft's class is the one it was started for)."""
    result = session.execute(
        _UPDATE_DRAFT,
        {
            "b_wave": wave_id,
            "b_person": person_id,
            "new_answers": dict(answers),
            "new_position": position,
            "now": now,
        },
    )
    if not getattr(result, "rowcount", 0):
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
        session.flush()


def is_completed(session: Session, wave_id: int, person_id: int) -> bool:
    return (
        session.scalar(
            select(Completion.person_id).where(
                Completion.wave_id == wave_id, Completion.person_id == person_id
            )
        )
        is not None
    )


def delete_drafts(session: Session, wave_id: int) -> int:
    """A closed wave's unfinished answers: they can never be submitted, so they go."""
    result = session.execute(delete(Draft).where(Draft.wave_id == wave_id))
    return int(getattr(result, "rowcount", 0) or 0)


def answer_rows(response_id: str, wave_id: int, answers: dict[str, Any]) -> list[dict[str, Any]]:
    """Flatten {question: option index | [indexes] | text} into `answers` rows, numbering the
    rows of each question from 0 (`item`)."""
    rows: list[dict[str, Any]] = []
    for question_id, value in answers.items():
        values = value if isinstance(value, list) else [value]
        item = 0
        for entry in values:
            base = {
                "response_id": response_id,
                "wave_id": wave_id,
                "question_id": question_id,
                "item": item,
            }
            if isinstance(entry, int) and not isinstance(entry, bool):
                rows.append({**base, "option_index": entry, "text": None})
            elif isinstance(entry, dict) and "other" in entry:
                rows.append({**base, "option_index": None, "text": str(entry["other"])})
            elif isinstance(entry, str) and entry.strip():
                rows.append({**base, "option_index": None, "text": entry})
            else:
                continue
            item += 1
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
) -> bool:
    """Store the anonymous response and the completion in one transaction, delete the draft.

    Returns False (and writes nothing) if this person has already completed the wave. The
    response is written by rewriting its whole (wave, class, role) group, see `_rewrite_group`.
    """
    try:
        with session.begin_nested():
            session.add(Completion(wave_id=wave_id, person_id=person_id))
            session.flush()
    except IntegrityError:
        return False
    _rewrite_group(
        session,
        survey_id=survey_id,
        wave_id=wave_id,
        class_id=class_id,
        role=role,
        answers=answers,
    )
    session.execute(delete(Draft).where(Draft.wave_id == wave_id, Draft.person_id == person_id))
    return True


# pg_advisory_xact_lock(GROUP_LOCK, wave_id): one group rewrite per wave at a time.
GROUP_LOCK = 0x6370  # "cp"


def _rewrite_group(
    session: Session,
    *,
    survey_id: int,
    wave_id: int,
    class_id: int | None,
    role: str,
    answers: dict[str, Any],
) -> str:
    """Add a response by writing its whole (wave, class, role) group anew, in random-id order.

    A response inserted on its own would sit, on disk and in every scan, right where its
    submission came: a SQLite page keeps its cells in insertion order, PostgreSQL's heap (ctid)
    and every row's xmin (the id of the transaction that wrote it, the same as the completion's)
    follow the order of submission, and the completions show that order too. So every
    submission deletes the group's responses and answers and inserts them all again, the new one
    among them, sorted by their random ids, in the submitting transaction: afterwards every row
    of the group has the same xmin and a position decided by its id alone. The response is as
    anonymous as its group is large (class and role are on it anyway); a group is one class and
    role of one wave, so the rewrite costs tens of responses, not the wave.
    """
    if session.get_bind().dialect.name == "postgresql":
        # Two submissions to one group must not rewrite it from the same old picture.
        session.execute(select(func.pg_advisory_xact_lock(GROUP_LOCK, wave_id)))
    in_group = (
        Response.wave_id == wave_id,
        Response.role == role,
        Response.class_id.is_(None) if class_id is None else Response.class_id == class_id,
    )
    group_ids = select(Response.id).where(*in_group).scalar_subquery()
    kept = session.execute(
        select(Response.id, Response.survey_id, Response.class_id, Response.role).where(*in_group)
    ).all()
    kept_answers = session.execute(
        select(
            Answer.response_id,
            Answer.question_id,
            Answer.item,
            Answer.wave_id,
            Answer.option_index,
            Answer.text,
        ).where(Answer.wave_id == wave_id, Answer.response_id.in_(group_ids))
    ).all()
    session.execute(delete(Answer).where(Answer.response_id.in_(group_ids)))
    session.execute(delete(Response).where(*in_group))
    new_id = _new_response_id({row.id for row in kept})
    response_rows = [
        {
            "id": r.id,
            "survey_id": r.survey_id,
            "wave_id": wave_id,
            "class_id": r.class_id,
            "role": r.role,
        }
        for r in kept
    ]
    response_rows.append(
        {
            "id": new_id,
            "survey_id": survey_id,
            "wave_id": wave_id,
            "class_id": class_id,
            "role": role,
        }
    )
    rows = [dict(a._mapping) for a in kept_answers] + answer_rows(new_id, wave_id, answers)
    session.execute(insert(Response), sorted(response_rows, key=lambda r: r["id"]))
    if rows:
        rows.sort(key=lambda a: (a["response_id"], a["question_id"], a["item"]))
        session.execute(insert(Answer), rows)
    return new_id


def _new_response_id(taken: set[str]) -> str:
    while (candidate := uuid.uuid4().hex) in taken:  # pragma: no cover - 2**-122
        pass
    return candidate


def add_response(
    session: Session,
    *,
    survey_id: int,
    wave_id: int,
    class_id: int | None,
    role: str,
    answers: dict[str, Any],
) -> str:
    """Store one anonymous response that no person submitted (tests; imports use bulk)."""
    response = Response(survey_id=survey_id, wave_id=wave_id, class_id=class_id, role=role)
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
