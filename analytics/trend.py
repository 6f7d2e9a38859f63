"""Trend: a survey's wave beside its previous wave, per option percent and construct share."""

from __future__ import annotations

from fractions import Fraction

from analytics.numbers import round_half_up
from analytics.records import ConstructChange, OptionChange, QuestionResult


def _share(count: int | None, answered: int) -> Fraction | None:
    return Fraction(count, answered) if count is not None and answered > 0 else None


def _change(current: Fraction | None, previous: Fraction | None) -> float | None:
    if current is None or previous is None:
        return None
    return round_half_up((current - previous) * 100)


def _pct(value: Fraction | None) -> float | None:
    return None if value is None else round_half_up(value * 100)


def option_changes(
    current: tuple[QuestionResult, ...], previous: tuple[QuestionResult, ...]
) -> list[OptionChange]:
    """Matched by question id and option label, so a reordered new survey version still pairs."""
    before = {q.id: q for q in previous}
    out = []
    for question in current:
        old = before.get(question.id)
        if old is None or question.kind == "text" or old.answered == 0:
            continue
        old_options = {o.label: o for o in old.options}
        for option in question.options:
            prior = old_options.get(option.label)
            if prior is None:
                continue
            now = _share(option.count, question.answered)
            then = _share(prior.count, old.answered)
            out.append(
                OptionChange(
                    question.id,
                    question.number,
                    option.label,
                    _pct(then),
                    _pct(now),
                    _change(now, then),
                )
            )
    return out


def construct_changes(
    current: dict[str, dict[str, Fraction | None]],
    previous: dict[str, dict[str, Fraction | None]],
) -> list[ConstructChange]:
    out = []
    for construct, by_group in current.items():
        for group, now in by_group.items():
            then = previous.get(construct, {}).get(group)
            if group not in previous.get(construct, {}):
                continue
            out.append(ConstructChange(construct, group, _pct(then), _pct(now), _change(now, then)))
    return out
