"""Bulk writes for imported (and synthetic) waves: anonymous responses via executemany."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from itertools import islice
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from storage.models import Answer, Response, Survey, Wave
from storage.repositories.responses import answer_rows

CHUNK = 20_000


@dataclass(frozen=True)
class NewResponse:
    """One anonymous response: answers as {question_id: index | [indexes] | text | {"other": t}}."""

    class_id: int | None
    role: str
    submitted_on: date
    answers: dict[str, Any]


@dataclass(frozen=True)
class ImportedWave:
    survey_slug: str
    label: str


def wave_for_import_hash(session: Session, import_hash: str) -> ImportedWave | None:
    """The wave an identical file was imported into, if any."""
    row = session.execute(
        select(Survey.slug, Wave.label)
        .join(Survey, Survey.id == Wave.survey_id)
        .where(Wave.import_hash == import_hash)
    ).first()
    return ImportedWave(row[0], row[1]) if row else None


def wave_labels(session: Session, survey_slug: str) -> set[str]:
    """Labels of every wave of a survey (any version)."""
    return set(
        session.scalars(
            select(Wave.label).join(Survey, Survey.id == Wave.survey_id).where(
                Survey.slug == survey_slug
            )
        )
    )


def _chunks(items: Iterable[NewResponse], size: int) -> Iterator[list[NewResponse]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def bulk_add_responses(
    session: Session, *, survey_id: int, wave_id: int, responses: Iterable[NewResponse]
) -> tuple[int, int]:
    """Insert responses and their answers with executemany, in chunks; returns (responses,
    answers). Ids are random as in `add_response`, so nothing pairs a row with its origin."""
    response_total = answer_total = 0
    response_table = Response.__table__
    answer_table = Answer.__table__
    for chunk in _chunks(responses, CHUNK):
        response_rows: list[dict[str, Any]] = []
        rows: list[dict[str, Any]] = []
        for item in chunk:
            response_id = uuid.uuid4().hex
            response_rows.append(
                {
                    "id": response_id,
                    "survey_id": survey_id,
                    "wave_id": wave_id,
                    "class_id": item.class_id,
                    "role": item.role,
                    "submitted_on": item.submitted_on,
                }
            )
            rows.extend(answer_rows(response_id, wave_id, item.answers))
        # Core inserts (not ORM objects): one executemany per table and chunk.
        session.execute(insert(response_table), response_rows)
        if rows:
            session.execute(insert(answer_table), rows)
        response_total += len(response_rows)
        answer_total += len(rows)
    return response_total, answer_total
