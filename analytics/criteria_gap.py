"""Criteria vs understanding, per class: the share of families (students and parents) who
confirmed every current criteria notice they received (✅ "Зрозуміло"), beside the class's
positive share on the `criteria_understanding` construct in the report's waves, sorted by the
gap. "Publish criteria, then check they are understood": a class where everyone pressed ✅
but few say they understand how they are assessed is where to look first.

The same small-group rule as everywhere: the understanding share counts the shown slices only
(a class-and-role group with 1 to k-1 respondents is left out, analytics/suppression.py); the
confirmed share of a class with 1 to k-1 family recipients is hidden too. No gap is computed
from a hidden side. With no criteria published to the report's classes there are no rows.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from analytics import constructs
from analytics.aggregate import Scope, load_wave_counts
from analytics.numbers import percent, round_half_up
from analytics.records import CriteriaUnderstandingRow
from analytics.suppression import is_small
from storage.repositories import analytics as repo
from storage.repositories.school import class_names
from storage.repositories.surveys import survey_def
from storage.repositories.waves import WaveInfo

UNDERSTANDING = "criteria_understanding"
FAMILY_GROUPS = ("student", "parent")


def criteria_vs_understanding(
    session: Session, waves: Sequence[WaveInfo], scope: Scope, k: int
) -> tuple[CriteriaUnderstandingRow, ...]:
    if scope.role is not None and scope.role not in FAMILY_GROUPS:
        return ()
    groups = (scope.role,) if scope.role else FAMILY_GROUPS
    family_waves = [w for w in waves if set(w.audience) & set(groups)]
    acks: dict[int, dict[int, tuple[int, int]]] = {}
    wave_classes = {c for w in family_waves for c in w.class_ids}
    candidates = sorted(wave_classes) if scope.class_id is None else [scope.class_id]
    for class_id, person_id, received, acked in repo.family_acknowledgements(
        session, candidates, groups
    ):
        acks.setdefault(class_id, {})[person_id] = (received, acked)
    if not acks:
        return ()  # no criteria published to these classes: nothing to compare
    class_ids = [c for c in candidates if c in wave_classes or c in acks]
    names = class_names(session, class_ids)
    rows: list[CriteriaUnderstandingRow] = []
    for class_id in class_ids:
        people = acks.get(class_id, {})
        families = len(people)
        confirmed = sum(1 for received, acked in people.values() if acked >= received)
        ack_hidden = is_small(families, k)
        positive = answered = 0
        for wave in family_waves:
            if class_id not in wave.class_ids:
                continue
            class_scope = Scope(class_id=class_id, class_name=names.get(class_id), role=scope.role)
            data = load_wave_counts(
                session, wave, survey_def(session, wave.survey_id), class_scope, k
            )
            for (construct, group), pooled in constructs.positive_table([data]).items():
                if construct == UNDERSTANDING and group in groups:
                    positive += pooled.positive
                    answered += pooled.answered
        confirmed_pct = None if ack_hidden else percent(confirmed, families)
        understanding_pct = percent(positive, answered)
        gap = (
            round_half_up(confirmed_pct - understanding_pct)
            if confirmed_pct is not None and understanding_pct is not None
            else None
        )
        rows.append(
            CriteriaUnderstandingRow(
                class_name=names.get(class_id, "?"),
                families=None if ack_hidden else families,
                confirmed=None if ack_hidden else confirmed,
                confirmed_percent=confirmed_pct,
                understanding_answered=answered,
                understanding_percent=understanding_pct,
                gap_pp=gap,
                confirmed_hidden=ack_hidden,
            )
        )
    rows.sort(key=lambda r: (r.gap_pp is None, -(r.gap_pp or 0.0), r.class_name))
    return tuple(rows)
