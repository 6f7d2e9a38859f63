"""Bulk writes for imported (and synthetic) waves: anonymous responses via executemany."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from storage.models import Answer, Response, Survey, Wave


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


AnswerPart = tuple[str, int, int | None, str | None]  # (question_id, item, option_index, text)


def answer_parts(answers: dict[str, Any]) -> list[AnswerPart]:
    """`answers` as rows without response and wave (same rules as responses.answer_rows), in key
    order within the response: question_id, then item."""
    rows: list[AnswerPart] = []
    for question_id in sorted(answers):
        value = answers[question_id]
        item = 0
        for entry in value if isinstance(value, list) else (value,):
            if isinstance(entry, int) and not isinstance(entry, bool):
                rows.append((question_id, item, entry, None))
            elif isinstance(entry, dict) and "other" in entry:
                rows.append((question_id, item, None, str(entry["other"])))
            elif isinstance(entry, str) and entry.strip():
                rows.append((question_id, item, None, entry))
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


def bulk_add_responses(
    session: Session, *, survey_id: int, wave_id: int, responses: Sequence[NewResponse]
) -> tuple[int, int]:
    """Insert responses and their answers; returns (responses, answers). See
    `bulk_add_answers` for the order rows are written in."""
    return bulk_add_answers(
        session,
        survey_id=survey_id,
        wave_id=wave_id,
        groups=[(r.class_id, r.role) for r in responses],
        answers=lambda i: answer_parts(responses[i].answers),
    )


def bulk_add_answers(
    session: Session,
    *,
    survey_id: int,
    wave_id: int,
    groups: Sequence[tuple[int | None, str]],
    answers: Callable[[int], Iterable[AnswerPart]],
) -> tuple[int, int]:
    """Insert len(groups) responses: response i is in group groups[i] (class id, role) and has
    the answer rows answers(i), in key order. Returns (responses, answers).

    Ids are random as in `add_response`, and rows are written in id order, so neither ids nor
    row order follow the source (a file's rows are in time order): every (class, role) group
    is written in random-id order. Writing in key order also keeps the inserts into the
    `response_id` indexes sequential: in random order they get slower and slower as the index
    outgrows the cache. The rows are generated while the driver's executemany consumes them:
    no list of millions of tuples is held, and no per-row SQLAlchemy parameter processing
    (that would triple the time of an import).
    """
    connection = session.connection()
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    response_sql = _insert_sql(cast(Table, Response.__table__), _RESPONSE_COLUMNS, marker)
    # 128 random bits per id, 32 hex digits like uuid4().hex: one urandom call, not one each.
    random_hex = os.urandom(16 * len(groups)).hex()
    keyed = sorted((random_hex[32 * i : 32 * i + 32], i) for i in range(len(groups)))
    texts: list[tuple[str, str, int, int, str]] = []  # the few rows with text
    written = [0]

    def option_rows() -> Iterator[tuple[str, str, int, int]]:
        count = 0
        for response_id, i in keyed:
            for question_id, item, option_index, text in answers(i):
                count += 1
                if text is None:
                    yield (response_id, question_id, item, option_index)  # type: ignore[misc]
                else:
                    texts.append((response_id, question_id, item, wave_id, text))
        written[0] = count

    # The wave is the same for every row: a literal binds four values per row, not six.
    option_sql = (
        f"INSERT INTO {Answer.__tablename__} (response_id, question_id, item, wave_id, "
        f"option_index, text) VALUES ({marker}, {marker}, {marker}, {int(wave_id)}, {marker}, "
        "NULL)"
    )
    text_sql = (
        f"INSERT INTO {Answer.__tablename__} (response_id, question_id, item, wave_id, "
        f"option_index, text) VALUES ({marker}, {marker}, {marker}, {marker}, NULL, {marker})"
    )
    # The session's transaction on the raw driver, whose executemany takes any iterable.
    cursor: Any = connection.connection.cursor()
    try:
        cursor.executemany(
            response_sql,
            (
                (response_id, survey_id, wave_id, *groups[i])  # (class_id, role)
                for response_id, i in keyed
            ),
        )
        cursor.executemany(option_sql, option_rows())
        if texts:  # also in id order: collected in it
            cursor.executemany(text_sql, texts)
    finally:
        cursor.close()
    return len(keyed), written[0]
