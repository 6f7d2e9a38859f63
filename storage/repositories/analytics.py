"""Read-only aggregate queries for `analytics/`: counts grouped in the database, never rows.

Everything here returns plain tuples; analytics sums them in small dictionaries. Counting
happens in SQL (GROUP BY over the `answers` index), so a report costs about one index scan of a
wave's answers however many there are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy import ColumnElement, Select, and_, func, not_, or_, select
from sqlalchemy.orm import Session

from storage.models import Answer, Completion, Membership, Response

# (question_id, option_index or None for text/"other", role or None, rows, first rows): the
# first rows (`item` 0) of a question count the responses that answered it.
OptionCountRow = tuple[str, int | None, str | None, int, int]


# A group of respondents: (class id, or None for "no class"; the stored roles it covers).
SliceFilter = tuple[int | None, Sequence[str]]

_Query = TypeVar("_Query", bound=Select)


def _in_slices(slices: Sequence[SliceFilter]) -> ColumnElement[bool]:
    return or_(
        *(
            and_(
                Response.class_id.is_(None) if class_id is None else Response.class_id == class_id,
                Response.role.in_(list(roles)),
            )
            for class_id, roles in slices
        )
    )


def _scoped(
    query: _Query, wave_id: int, class_id: int | None, roles: Sequence[str] | None
) -> _Query:
    query = query.where(Answer.wave_id == wave_id)
    if class_id is not None or roles is not None:
        query = query.join(Response, Response.id == Answer.response_id)
    if class_id is not None:
        query = query.where(Response.class_id == class_id)
    if roles is not None:
        query = query.where(Response.role.in_(list(roles)))
    return query


def _firsts() -> ColumnElement[int]:
    """Of an option's answer rows, those that are their response's first (`item` 0) answer to
    the question. Each response that answered a question has exactly one first row, so the
    firsts of a question's options sum to its respondents: no COUNT(DISTINCT response_id) pass
    over the table (on SQLite `item`, being part of the table's key, is in every index of it)."""
    return func.count().filter(Answer.item == 0)


def option_counts(
    session: Session,
    wave_id: int,
    *,
    class_id: int | None = None,
    roles: Sequence[str] | None = None,
    by_role: bool = False,
) -> list[OptionCountRow]:
    """Answer rows and first rows (see `_firsts`) per (question, option[, role]) of a wave,
    optionally for one class/roles.

    Without class, roles and by_role this is a covering-index scan of
    `ix_answers_wave_question_option` (no join).
    """
    if by_role:
        by_role_query = (
            select(Answer.question_id, Answer.option_index, Response.role, func.count(), _firsts())
            .join(Response, Response.id == Answer.response_id)
            .where(Answer.wave_id == wave_id)
            .group_by(Answer.question_id, Answer.option_index, Response.role)
        )
        if class_id is not None:
            by_role_query = by_role_query.where(Response.class_id == class_id)
        if roles is not None:
            by_role_query = by_role_query.where(Response.role.in_(list(roles)))
        return [(r[0], r[1], r[2], int(r[3]), int(r[4])) for r in session.execute(by_role_query)]
    query = _scoped(
        select(Answer.question_id, Answer.option_index, func.count(), _firsts()),
        wave_id,
        class_id,
        roles,
    ).group_by(Answer.question_id, Answer.option_index)
    return [(r[0], r[1], None, int(r[2]), int(r[3])) for r in session.execute(query)]


def slice_option_counts(
    session: Session, wave_id: int, slices: Sequence[SliceFilter]
) -> list[OptionCountRow]:
    """Answer rows and first rows per (question, option, role) of the responses in `slices`.

    For the few small groups a report leaves out: analytics subtracts these from the scope's
    counts, so that the common case keeps its covering-index scan without a join.
    """
    if not slices:
        return []
    query = (
        select(Answer.question_id, Answer.option_index, Response.role, func.count(), _firsts())
        .join(Response, Response.id == Answer.response_id)
        .where(Answer.wave_id == wave_id, Response.wave_id == wave_id, _in_slices(slices))
        .group_by(Answer.question_id, Answer.option_index, Response.role)
    )
    return [(r[0], r[1], r[2], int(r[3]), int(r[4])) for r in session.execute(query)]


def text_answer_counts(
    session: Session,
    wave_id: int,
    question_id: str,
    *,
    class_id: int | None = None,
    roles: Sequence[str] | None = None,
    exclude: Sequence[SliceFilter] = (),
) -> list[tuple[str, int]]:
    """Free-text (and "other") answers of one question as (text, how many wrote exactly it),
    leaving out the responses in `exclude`; sorted by text, so that order reveals nothing."""
    query = _scoped(select(Answer.text, func.count()), wave_id, class_id, roles).where(
        Answer.question_id == question_id,
        Answer.option_index.is_(None),
        Answer.text.is_not(None),
    )
    if exclude:
        if class_id is None and roles is None:  # _scoped joined nothing yet
            query = query.join(Response, Response.id == Answer.response_id)
        query = query.where(not_(_in_slices(exclude)))
    # Stored texts are never empty (answer rows skip blank ones); grouping in SQL is cheapest.
    query = query.group_by(Answer.text).order_by(Answer.text)
    return [(str(r[0]), int(r[1])) for r in session.execute(query)]


def respondent_counts(session: Session, wave_id: int) -> list[tuple[int | None, str, int]]:
    """(class_id, role, responses) of a wave."""
    rows = session.execute(
        select(Response.class_id, Response.role, func.count())
        .where(Response.wave_id == wave_id)
        .group_by(Response.class_id, Response.role)
    )
    return [(r[0], r[1], int(r[2])) for r in rows]


def registered_by_class(
    session: Session, class_ids: Sequence[int], roles: Sequence[str]
) -> list[tuple[int, int]]:
    """(class_id, people with one of `roles` in that class): response-rate denominators."""
    rows = session.execute(
        select(Membership.class_id, func.count(Membership.person_id.distinct()))
        .where(Membership.class_id.in_(list(class_ids)), Membership.role.in_(list(roles)))
        .group_by(Membership.class_id)
    )
    return [(int(c), int(n)) for c, n in rows if c is not None]


def completed_by_class(
    session: Session, wave_id: int, class_ids: Sequence[int], roles: Sequence[str]
) -> list[tuple[int, int]]:
    """(class_id, people with one of `roles` in that class who completed the wave)."""
    rows = session.execute(
        select(Membership.class_id, func.count(Completion.person_id.distinct()))
        .join(Membership, Membership.person_id == Completion.person_id)
        .where(
            Completion.wave_id == wave_id,
            Membership.class_id.in_(list(class_ids)),
            Membership.role.in_(list(roles)),
        )
        .group_by(Membership.class_id)
    )
    return [(int(c), int(n)) for c, n in rows if c is not None]


def registered_total(session: Session, class_ids: Sequence[int], roles: Sequence[str]) -> int:
    """Distinct people with one of `roles` in any of `class_ids` (a parent of two counts once)."""
    return int(
        session.scalar(
            select(func.count(Membership.person_id.distinct())).where(
                Membership.class_id.in_(list(class_ids)), Membership.role.in_(list(roles))
            )
        )
        or 0
    )


def completed_total(
    session: Session, wave_id: int, class_ids: Sequence[int], roles: Sequence[str]
) -> int:
    """Distinct people with one of `roles` in any of `class_ids` who completed the wave."""
    return int(
        session.scalar(
            select(func.count(Completion.person_id.distinct()))
            .join(Membership, Membership.person_id == Completion.person_id)
            .where(
                Completion.wave_id == wave_id,
                Membership.class_id.in_(list(class_ids)),
                Membership.role.in_(list(roles)),
            )
        )
        or 0
    )


def bare_option_counts(session: Session, wave_id: int) -> list[tuple[str, int | None, int]]:
    """The benchmark floor: the one GROUP BY every distribution needs, nothing else."""
    rows = session.execute(
        select(Answer.question_id, Answer.option_index, func.count())
        .where(Answer.wave_id == wave_id)
        .group_by(Answer.question_id, Answer.option_index)
    )
    return [(r[0], r[1], int(r[2])) for r in rows]


def family_acknowledgements(
    session: Session, class_ids: Sequence[int], roles: Sequence[str]
) -> list[tuple[int, int, int, int]]:
    """(class_id, person_id, current notices received, of them acknowledged) for family members
    (`roles`) of the classes: the ✅ side of "criteria vs understanding"."""
    from storage.models import Notice, NoticeDelivery

    rows = session.execute(
        select(
            Notice.class_id,
            NoticeDelivery.person_id,
            func.count(),
            func.count(NoticeDelivery.acknowledged_at),
        )
        .join(Notice, Notice.id == NoticeDelivery.notice_id)
        .where(
            Notice.class_id.in_(list(class_ids)),
            Notice.superseded_by.is_(None),
            NoticeDelivery.role.in_(list(roles)),
        )
        .group_by(Notice.class_id, NoticeDelivery.person_id)
    )
    return [(int(c), int(p), int(n), int(a)) for c, p, n, a in rows]
