"""Load one wave's aggregated counts from the database into two small dictionaries.

`counts`: (role group, question, option) -> number of answers; option -1 is a free text
("other" or a text question). `answered`: (role group, question) -> number of responses that
answered it. Both are tiny (questions x options x roles) whatever the number of stored answers,
because the GROUP BY runs in the database.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from analytics.labels import ROLE_GROUPS, role_group
from analytics.suppression import Slice, split_slices
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
    """A wave's counts over the *shown* slices of the scope (see analytics/suppression.py)."""

    wave: WaveInfo
    survey: SurveyDef
    respondents: dict[str, int]  # role group -> responses in the shown slices of the scope
    counts: dict[tuple[str, str, int], int]  # (group, question_id, option) -> answers
    answered: dict[tuple[str, str], int]  # (group, question_id) -> responses that answered
    hidden: tuple[Slice, ...] = ()  # slices of the scope left out of every figure

    @property
    def total_respondents(self) -> int:
        return sum(self.respondents.values())

    def option_totals(self) -> dict[str, dict[int, int]]:
        """Counts summed over role groups: question_id -> option -> answers."""
        totals: dict[str, dict[int, int]] = {}
        for (_, question, option), n in self.counts.items():
            by_option = totals.setdefault(question, {})
            by_option[option] = by_option.get(option, 0) + n
        return totals

    def answered_totals(self) -> dict[str, int]:
        """question_id -> responses that answered it, summed over role groups."""
        totals: dict[str, int] = {}
        for (_, question), n in self.answered.items():
            totals[question] = totals.get(question, 0) + n
        return totals


def slice_filters(hidden: tuple[Slice, ...]) -> list[repo.SliceFilter]:
    """The stored roles of each hidden slice, for the repository's queries."""
    return [(class_id, ROLE_GROUPS.get(group, (group,))) for class_id, group in hidden]


def _slices(session: Session, wave_id: int, scope: Scope) -> dict[Slice, int]:
    """Respondents per slice (class, role group) of the wave within the scope."""
    out: dict[Slice, int] = {}
    wanted = scope.roles
    for class_id, role, n in repo.respondent_counts(session, wave_id):
        if scope.class_id is not None and class_id != scope.class_id:
            continue
        if wanted is not None and role not in wanted:
            continue
        key = (class_id, role_group(role))
        out[key] = out.get(key, 0) + n
    return out


def _subtract(
    rows: dict[tuple[str, str, int], int], hidden_rows: list[tuple[str, str, int, int]]
) -> None:
    """Take the hidden slices' counts out of the scope's (same keys: group, question, option)."""
    for key in ((g, q, o) for g, q, o, _ in hidden_rows):
        rows.setdefault(key, 0)
    for group, question, option, n in hidden_rows:
        rows[(group, question, option)] -= n
    for key in [key for key, n in rows.items() if n <= 0]:
        del rows[key]


Counts = dict[tuple[str, str, int], int]


def _count_rows(
    session: Session, wave_id: int, scope: Scope, groups: list[str], hidden: list[Slice]
) -> tuple[Counts, Counts]:
    """(group, question, option) -> answers, and -> first answers (see
    repo.option_counts), over the shown slices of the scope."""
    # One role group shown: no need to split by role, and without a class filter the count is
    # a covering-index scan (no join). The few hidden slices are counted apart and subtracted.
    by_role = len(groups) > 1
    only = groups[0]
    raw = repo.option_counts(
        session, wave_id, class_id=scope.class_id, roles=scope.roles, by_role=by_role
    )
    rows: Counts = {}
    firsts: Counts = {}
    for q, o, r, n, first in raw:
        key = (role_group(r) if r is not None else only, q, OTHER if o is None else o)
        rows[key] = rows.get(key, 0) + n
        firsts[key] = firsts.get(key, 0) + first
    hidden_rows: list[tuple[str, str, int, int]] = []
    hidden_firsts: list[tuple[str, str, int, int]] = []
    for q, o, r, n, first in repo.slice_option_counts(
        session, wave_id, slice_filters(tuple(hidden))
    ):
        key = (role_group(r) if by_role and r is not None else only, q, OTHER if o is None else o)
        hidden_rows.append((*key, n))
        hidden_firsts.append((*key, first))
    _subtract(rows, hidden_rows)
    # Slices are disjoint sets of responses: first rows subtract exactly too.
    _subtract(firsts, hidden_firsts)
    return rows, firsts


def _answered_multi(firsts: Counts, multi: list[str]) -> Counts:
    """(group, question, 0) -> responses that answered each multi-choice question: the sum of
    its options' first rows (one per response that answered it)."""
    wanted = set(multi)
    rows: Counts = {}
    for (group, question, _), n in firsts.items():
        if question in wanted:
            rows[(group, question, 0)] = rows.get((group, question, 0), 0) + n
    return rows


def load_wave_counts(
    session: Session, wave: WaveInfo, survey: SurveyDef, scope: Scope, k: int
) -> WaveCounts:
    """Run the wave's GROUP BY queries and shape the results, hidden slices left out."""
    shown, hidden = split_slices(_slices(session, wave.id, scope), k)
    respondents: dict[str, int] = {}
    for (_, group), n in shown.items():
        respondents[group] = respondents.get(group, 0) + n
    groups = sorted(respondents)
    known = {q.id for q in survey.questions}
    multi = [q.id for q in survey.questions if q.kind == "multi"]
    count_rows: dict[tuple[str, str, int], int] = {}
    multi_rows: dict[tuple[str, str, int], int] = {}
    if groups:  # nothing to count when every slice is hidden
        count_rows, firsts = _count_rows(session, wave.id, scope, groups, hidden)
        multi_rows = _answered_multi(firsts, multi)
    # Answers to questions a later survey version dropped are ignored, not mislabelled.
    counts = {key: n for key, n in count_rows.items() if key[1] in known}
    # Single-choice and text answers are one row per response: their row count is `answered`;
    # a multi-choice question's respondents are the sum of its first rows (_answered_multi).
    answered: dict[tuple[str, str], int] = {}
    for (group, question, _), n in counts.items():
        if question not in multi:
            answered[(group, question)] = answered.get((group, question), 0) + n
    for (group, question, _), n in multi_rows.items():
        if question in known:
            answered[(group, question)] = n
    return WaveCounts(wave, survey, respondents, counts, answered, tuple(hidden))
