"""Positive share per construct and role, and the gap between roles on the same construct.

A construct (e.g. `criteria_understanding`) is asked in each role's own questionnaire; its positive
share for a role is the answers in the question's `positive` options over those who answered,
pooled over every single-choice question of that construct the role answered.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction

import pandas as pd

from analytics.aggregate import WaveCounts
from analytics.labels import COMPARED_ROLES
from analytics.numbers import gap_pp, round_half_up
from analytics.records import GapResult


def positive_frame(waves: Iterable[WaveCounts]) -> pd.DataFrame:
    """construct, group, positive, answered, questions: summed over waves and questions.

    The counts are those of the shown slices only (hidden groups are not in WaveCounts), so a
    share shown here reveals nothing about a hidden group. `questions`: the numbers of the
    questions pooled, as a sorted tuple.
    """
    parts = []
    for data in waves:
        questions = [
            q for q in data.survey.questions if q.kind == "single" and q.construct and q.positive
        ]
        if not questions:
            continue
        meta = pd.DataFrame(
            [(q.id, q.construct, i) for q in questions for i in q.positive],
            columns=["question_id", "construct", "option"],
        )
        positives = data.counts.merge(meta, on=["question_id", "option"])
        pos = positives.groupby(["construct", "group"], as_index=False)["n"].sum()
        constructs = pd.DataFrame(
            [(q.id, q.construct, q.number) for q in questions],
            columns=["question_id", "construct", "number"],
        )
        answered = data.answered.merge(constructs, on="question_id")
        answered = answered[answered["n"] > 0]
        ans = answered.groupby(["construct", "group"], as_index=False).agg(
            n=("n", "sum"), questions=("number", lambda s: tuple(sorted(set(s))))
        )
        merged = ans.merge(pos, on=["construct", "group"], how="left", suffixes=("_ans", "_pos"))
        parts.append(merged.fillna({"n_pos": 0}))
    if not parts:
        return pd.DataFrame(columns=["construct", "group", "positive", "answered", "questions"])
    frame = pd.concat(parts, ignore_index=True)
    frame = frame.groupby(["construct", "group"], as_index=False).agg(
        positive=("n_pos", "sum"),
        answered=("n_ans", "sum"),
        questions=("questions", lambda s: tuple(sorted({n for t in s for n in t}))),
    )
    return frame.astype({"positive": int, "answered": int})


def shares(frame: pd.DataFrame) -> dict[str, dict[str, Fraction | None]]:
    """construct -> role group -> exact positive share (None when nobody answered)."""
    out: dict[str, dict[str, Fraction | None]] = {}
    for construct, group, positive, answered in frame[
        ["construct", "group", "positive", "answered"]
    ].itertuples(index=False):
        out.setdefault(str(construct), {})[str(group)] = (
            Fraction(int(positive), int(answered)) if answered > 0 else None
        )
    return out


def gaps(frame: pd.DataFrame) -> tuple[GapResult, ...]:
    """One GapResult per construct, largest gap first; constructs asked of one role come last."""
    answered = {
        (str(c), str(g)): int(a)
        for c, g, a in frame[["construct", "group", "answered"]].itertuples(index=False)
    }
    numbers = {
        (str(c), str(g)): tuple(int(n) for n in q)
        for c, g, q in frame[["construct", "group", "questions"]].itertuples(index=False)
    }
    results = []
    for construct, by_group in shares(frame).items():
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
