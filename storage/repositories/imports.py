"""Bulk writes for imported (and synthetic) waves: anonymous responses via executemany."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from storage.models import Answer, Response, Survey, Wave

CHUNK = 20_000


@dataclass(frozen=True)
class NewResponse:
    """One anonymous response: answers as {question_id: index | [indexes] | text | {"other": t}}.

    No date: a response is dated by its wave only (docs/privacy.md)."""

    class_id: int | None
    role: str
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
            select(Wave.label)
            .join(Survey, Survey.id == Wave.survey_id)
            .where(Survey.slug == survey_slug)
        )
    )


AnswerTuple = tuple[str, str, int, int, int | None, str | None]


def answer_tuples(response_id: str, wave_id: int, answers: dict[str, Any]) -> list[AnswerTuple]:
    """`answers` rows as tuples (same rules as responses.answer_rows, without dicts: faster),
    in key order within the response: (response_id, question_id, item, ...)."""
    rows: list[AnswerTuple] = []
    for question_id in sorted(answers):
        value = answers[question_id]
        item = 0
        for entry in value if isinstance(value, list) else (value,):
            if isinstance(entry, int) and not isinstance(entry, bool):
                rows.append((response_id, question_id, item, wave_id, entry, None))
            elif isinstance(entry, dict) and "other" in entry:
                rows.append((response_id, question_id, item, wave_id, None, str(entry["other"])))
            elif isinstance(entry, str) and entry.strip():
                rows.append((response_id, question_id, item, wave_id, None, entry))
            else:
                continue
            item += 1
    return rows


def _insert_sql(table: Table, columns: tuple[str, ...], marker: str) -> str:
    return (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"VALUES ({', '.join([marker] * len(columns))})"
    )


_RESPONSE_COLUMNS = ("id", "survey_id", "wave_id", "class_id", "role")
_ANSWER_COLUMNS = ("response_id", "question_id", "item", "wave_id", "option_index", "text")


def bulk_add_responses(
    session: Session, *, survey_id: int, wave_id: int, responses: Sequence[NewResponse]
) -> tuple[int, int]:
    """Insert responses and their answers with executemany, in chunks; returns (responses,
    answers).

    Ids are random as in `add_response`, and rows are written in id order, so neither ids nor
    row order follow the source (a file's rows are in time order). Writing in key order also
    keeps the inserts into the `response_id` indexes sequential: in random order they get
    slower and slower as the index outgrows the cache. The rows go straight to the driver's
    executemany: per-row SQLAlchemy parameter processing would triple the time of an import.
    """
    connection = session.connection()
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    response_sql = _insert_sql(cast(Table, Response.__table__), _RESPONSE_COLUMNS, marker)
    answer_sql = _insert_sql(cast(Table, Answer.__table__), _ANSWER_COLUMNS, marker)
    keyed = sorted((uuid.uuid4().hex, i) for i in range(len(responses)))
    answer_total = 0
    for start in range(0, len(keyed), CHUNK):
        chunk = [(response_id, responses[i]) for response_id, i in keyed[start : start + CHUNK]]
        response_rows = [
            (response_id, survey_id, wave_id, item.class_id, item.role)
            for response_id, item in chunk
        ]
        rows: list[AnswerTuple] = []
        for response_id, item in chunk:
            rows.extend(answer_tuples(response_id, wave_id, item.answers))
        connection.exec_driver_sql(response_sql, response_rows)
        if rows:
            connection.exec_driver_sql(answer_sql, rows)
        answer_total += len(rows)
    return len(keyed), answer_total
