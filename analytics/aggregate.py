"""Load one wave's aggregated counts from the database into two small pandas frames.

`counts`: one row per (role group, question, option) with the number of answers; option -1 is a
free text ("other" or a text question). `answered`: one row per (role group, question) with the
number of responses that answered it. Both are tiny (questions x options x roles) whatever the
number of stored answers, because the GROUP BY runs in the database.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy.orm import Session

from analytics.labels import ROLE_GROUPS, role_group
from storage.repositories import analytics as repo
from storage.repositories.waves import WaveInfo
from storage.survey_schema import SurveyDef

OTHER = -1  # option index standing for free text in the frames


@dataclass(frozen=True)
class Scope:
    """Which responses count: all, one class, one role group (teacher/student/parent)."""

    class_id: int | None = None
    class_name: str | None = None
    role: str | None = None

    @property
    def roles(self) -> tuple[str, ...] | None:
        return ROLE_GROUPS.get(self.role, (self.role,)) if self.role else None


@dataclass(frozen=True)
class WaveCounts:
    wave: WaveInfo
    survey: SurveyDef
    respondents: dict[str, int]  # role group -> responses in scope
    counts: pd.DataFrame  # columns: group, question_id, option, n
    answered: pd.DataFrame  # columns: group, question_id, n

    @property
    def total_respondents(self) -> int:
        return sum(self.respondents.values())

    def option_totals(self) -> pd.DataFrame:
        """Counts summed over role groups: question_id, option, n."""
        return self.counts.groupby(["question_id", "option"], as_index=False)["n"].sum()

    def answered_totals(self) -> dict[str, int]:
        totals = self.answered.groupby("question_id")["n"].sum()
        return {str(k): int(v) for k, v in totals.items()}


def _respondents(session: Session, wave_id: int, scope: Scope) -> dict[str, int]:
    out: dict[str, int] = {}
    wanted = scope.roles
    for class_id, role, n in repo.respondent_counts(session, wave_id):
        if scope.class_id is not None and class_id != scope.class_id:
            continue
        if wanted is not None and role not in wanted:
            continue
        group = role_group(role)
        out[group] = out.get(group, 0) + n
    return out


def load_wave_counts(
    session: Session, wave: WaveInfo, survey: SurveyDef, scope: Scope
) -> WaveCounts:
    """Run the wave's GROUP BY queries (two at most) and shape the results."""
    respondents = _respondents(session, wave.id, scope)
    groups = sorted(respondents)
    # One role group and no class filter: the join to `responses` is not needed, and the
    # count is a covering-index scan. Otherwise group by the stored role and map it.
    by_role = len(groups) > 1
    class_id = scope.class_id
    roles = scope.roles
    raw = repo.option_counts(session, wave.id, class_id=class_id, roles=roles, by_role=by_role)
    only = groups[0] if groups else "?"
    counts = pd.DataFrame(
        [
            (role_group(r) if r is not None else only, q, OTHER if o is None else o, n)
            for q, o, r, n in raw
        ],
        columns=["group", "question_id", "option", "n"],
    )
    counts = counts.groupby(["group", "question_id", "option"], as_index=False)["n"].sum()
    multi = [q.id for q in survey.questions if q.kind == "multi"]
    known = {q.id for q in survey.questions}
    # Single-choice and text answers are one row per response: their row count is `answered`.
    single_rows = counts[~counts["question_id"].isin(multi)]
    answered_single = single_rows.groupby(["group", "question_id"], as_index=False)["n"].sum()
    multi_raw = repo.answered_counts(
        session, wave.id, multi, class_id=class_id, roles=roles, by_role=by_role
    )
    answered_multi = pd.DataFrame(
        [(role_group(r) if r is not None else only, q, n) for q, r, n in multi_raw],
        columns=["group", "question_id", "n"],
    )
    answered = pd.concat(
        [frame for frame in (answered_single, answered_multi) if not frame.empty]
        or [pd.DataFrame(columns=["group", "question_id", "n"])],
        ignore_index=True,
    )
    answered = answered.groupby(["group", "question_id"], as_index=False)["n"].sum()
    # Answers to questions a later survey version dropped are ignored, not mislabelled.
    counts = counts[counts["question_id"].isin(known)]
    answered = answered[answered["question_id"].isin(known)]
    return WaveCounts(wave, survey, respondents, counts, answered)
