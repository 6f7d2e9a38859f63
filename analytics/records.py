"""The plain report data structure every renderer reads (no pandas, no SQLAlchemy).

Every number here is computed over the shown groups of respondents only (see
analytics/suppression.py): a group (class x role) smaller than the minimum is listed in
`hidden_groups` with its reason and counts nowhere. Percentages are 0-100 with one decimal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class OptionResult:
    label: str
    count: int
    percent: float | None  # None only when nobody answered the question


@dataclass(frozen=True)
class TextGroup:
    """Identical free answers (up to case, spacing and final punctuation), once with a count."""

    text: str
    count: int


@dataclass(frozen=True)
class HiddenGroup:
    """A group of respondents left out of every figure, and why."""

    class_name: str | None  # None: respondents without a class (e.g. teachers school-wide)
    role: str  # role group: teacher | student | parent
    reason: str = "small_group"  # fewer respondents than the minimum group size


@dataclass(frozen=True)
class QuestionResult:
    id: str
    number: int
    title: str
    kind: str  # single | multi | text
    construct: str | None
    answered: int
    options: tuple[OptionResult, ...]
    other: OptionResult | None = None  # free answers of an `allow_other` question
    # Shown free texts, grouped, most frequent first: only when enough people wrote one.
    texts: tuple[TextGroup, ...] = ()
    texts_hidden: int = 0  # free texts withheld because too few people wrote one
    positive: tuple[int, ...] = ()
    positive_percent: float | None = None


@dataclass(frozen=True)
class SurveyResult:
    id: str
    title: str
    wave: str
    status: str
    source: str
    respondents: int
    respondents_by_role: dict[str, int]
    questions: tuple[QuestionResult, ...]  # empty when every group is hidden
    audience: tuple[str, ...] = ()
    hidden_groups: tuple[HiddenGroup, ...] = ()

    @property
    def suppressed(self) -> bool:
        """Nothing can be shown: every group that answered is smaller than the minimum."""
        return self.respondents == 0 and bool(self.hidden_groups)


@dataclass(frozen=True)
class GapResult:
    """Positive share of one construct by role and the largest difference between roles."""

    construct: str
    positive: dict[str, float | None]  # teacher/student/parent -> percent (None: no data)
    answered: dict[str, int]
    max_gap_pp: float | None
    high: str | None = None
    low: str | None = None
    # role -> numbers of the questions (in that role's questionnaire) the share pools
    questions: dict[str, tuple[int, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class RateRow:
    survey: str
    wave: str
    class_name: str | None  # None: all classes of the wave (but `excluded`)
    role: str
    registered: int | None
    completed: int | None
    rate: float | None  # None: suppressed or not applicable (imported wave)
    suppressed: bool = False  # the group is smaller than the minimum: completed/rate hidden
    note: str = ""  # "import": an imported wave has no completions, so no rate
    excluded: tuple[str, ...] = ()  # a total row: hidden classes left out of it


@dataclass(frozen=True)
class OptionChange:
    question_id: str
    number: int
    label: str
    previous: float | None
    current: float | None
    change_pp: float | None


@dataclass(frozen=True)
class ConstructChange:
    construct: str
    role: str
    previous: float | None
    current: float | None
    change_pp: float | None


@dataclass(frozen=True)
class TrendResult:
    survey: str
    wave: str
    previous_wave: str
    options: tuple[OptionChange, ...]
    constructs: tuple[ConstructChange, ...]


@dataclass(frozen=True)
class CriteriaUnderstandingRow:
    """One class: families who confirmed every current criteria notice (✅), and the positive
    share on `criteria_understanding` in the report's waves; gap = confirmed - understanding, pp.
    None: hidden (small group) or nothing to count."""

    class_name: str
    families: int | None  # family members who received current notices
    confirmed: int | None  # of them, those who acknowledged every one
    confirmed_percent: float | None
    understanding_answered: int  # answers to the construct's questions, shown groups only
    understanding_percent: float | None
    gap_pp: float | None
    confirmed_hidden: bool = False


@dataclass(frozen=True)
class Report:
    school_name: str
    generated_at: datetime
    min_group_size: int
    surveys: tuple[SurveyResult, ...]
    gaps: tuple[GapResult, ...]
    response_rates: tuple[RateRow, ...]
    trend: tuple[TrendResult, ...]
    class_name: str | None = None
    role: str | None = None
    criteria_vs_understanding: tuple[CriteriaUnderstandingRow, ...] = ()

    @property
    def respondents(self) -> int:
        """Respondents in the shown groups (the hidden ones count nowhere)."""
        return sum(s.respondents for s in self.surveys)

    @property
    def hidden_group_count(self) -> int:
        """Groups left out of every figure, over all surveys."""
        return sum(len(s.hidden_groups) for s in self.surveys)

    def ranked_gaps(self) -> list[GapResult]:
        """Gaps with at least two roles to compare, largest first."""
        return [g for g in self.gaps if g.max_gap_pp is not None]
