"""Positive share per construct and role, and the gap between roles on the same construct.

A construct (e.g. `criteria_understanding`) is asked in each role's own questionnaire; its positive
share for a role is the answers in the question's `positive` options over those who answered,
pooled over every single-choice question of that construct the role answered.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from analytics.aggregate import WaveCounts
from analytics.labels import COMPARED_ROLES
from analytics.numbers import gap_pp, round_half_up
from analytics.records import GapResult


@dataclass(frozen=True)
class Pooled:
    """One construct and role group, pooled over waves and questions."""

    positive: int  # answers in the questions' positive options
    answered: int  # responses that answered the questions
    questions: tuple[int, ...]  # the numbers of the questions pooled, sorted


# (construct, role group) -> Pooled, in (construct, group) order
PositiveTable = dict[tuple[str, str], Pooled]


def positive_table(waves: Iterable[WaveCounts]) -> PositiveTable:
    """Positive answers, respondents and question numbers per (construct, role group), summed
    over waves and over the single-choice questions of the construct that have positive
    options; only pairs where someone answered such a question.

    The counts are those of the shown slices only (hidden groups are not in WaveCounts), so a
    share shown here reveals nothing about a hidden group.
    """
    positive: dict[tuple[str, str], int] = {}
    answered: dict[tuple[str, str], int] = {}
    numbers: dict[tuple[str, str], set[int]] = {}
    for data in waves:
        questions = {
            q.id: q
            for q in data.survey.questions
            if q.kind == "single" and q.construct and q.positive
        }
        if not questions:
            continue
        for (group, question_id), n in data.answered.items():
            q = questions.get(question_id)
            if q is None or n <= 0 or q.construct is None:
                continue
            key = (q.construct, group)
            answered[key] = answered.get(key, 0) + n
            numbers.setdefault(key, set()).add(q.number)
        for (group, question_id, option), n in data.counts.items():
            q = questions.get(question_id)
            if q is None or option not in q.positive or q.construct is None:
                continue
            key = (q.construct, group)
            positive[key] = positive.get(key, 0) + n
    # A (construct, group) counts only where someone answered (positives without answers
    # cannot happen: a positive answer is an answer).
    return {
        key: Pooled(positive.get(key, 0), answered[key], tuple(sorted(numbers[key])))
        for key in sorted(answered)
    }


def shares(table: PositiveTable) -> dict[str, dict[str, Fraction | None]]:
    """construct -> role group -> exact positive share (None when nobody answered)."""
    out: dict[str, dict[str, Fraction | None]] = {}
    for (construct, group), pooled in table.items():
        out.setdefault(construct, {})[group] = (
            Fraction(pooled.positive, pooled.answered) if pooled.answered > 0 else None
        )
    return out


def gaps(table: PositiveTable) -> tuple[GapResult, ...]:
    """One GapResult per construct, largest gap first; constructs asked of one role come last."""
    answered = {key: pooled.answered for key, pooled in table.items()}
    numbers = {key: pooled.questions for key, pooled in table.items()}
    results = []
    for construct, by_group in shares(table).items():
        known = {g: s for g, s in by_group.items() if s is not None and g in COMPARED_ROLES}
        positive = {
            g: (round_half_up(known[g] * 100) if g in known else None) for g in COMPARED_ROLES
        }
        gap = high = low = None
        if len(known) >= 2:
            high = max(known, key=lambda g: known[g])
            low = min(known, key=lambda g: known[g])
            gap = gap_pp(known[high], known[low])
        results.append(
            GapResult(
                construct=construct,
                positive=positive,
                answered={g: answered.get((construct, g), 0) for g in COMPARED_ROLES},
                max_gap_pp=gap,
                high=high,
                low=low,
                questions={
                    g: numbers[(construct, g)] for g in COMPARED_ROLES if (construct, g) in numbers
                },
            )
        )
    results.sort(key=lambda g: (g.max_gap_pp is None, -(g.max_gap_pp or 0.0), g.construct))
    return tuple(results)
