"""The plain report data structure every renderer reads (no pandas, no SQLAlchemy).

Suppressed numbers are `None` with `suppressed=True`; percentages are 0-100 with one decimal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class OptionResult:
    label: str
    count: int | None
    percent: float | None
    suppressed: bool = False


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
    texts: tuple[str, ...] = ()  # shown free texts: only when enough people wrote one
    texts_hidden: int = 0  # free texts withheld because too few people wrote one
    positive: tuple[int, ...] = ()
    positive_percent: float | None = None
    suppressed: bool = False  # answered by fewer than the minimum group: no distribution


@dataclass(frozen=True)
class SurveyResult:
    id: str
    title: str
    wave: str
    status: str
    source: str
    respondents: int
    respondents_by_role: dict[str, int]
    questions: tuple[QuestionResult, ...]
    audience: tuple[str, ...] = ()


@dataclass(frozen=True)
class GapResult:
    """Positive share of one construct by role and the largest difference between roles."""

    construct: str
    positive: dict[str, float | None]  # teacher/student/parent -> percent (None: no data)
    answered: dict[str, int]
    max_gap_pp: float | None
    high: str | None = None
    low: str | None = None


@dataclass(frozen=True)
class RateRow:
    survey: str
    wave: str
    class_name: str | None  # None: all classes of the wave
    role: str
    registered: int | None
    completed: int | None
    rate: float | None  # None: suppressed or not applicable (imported wave)
    suppressed: bool = False
    note: str = ""  # "import": an imported wave has no completions, so no rate


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

    @property
    def respondents(self) -> int:
        return sum(s.respondents for s in self.surveys)

    def ranked_gaps(self) -> list[GapResult]:
        """Gaps with at least two roles to compare, largest first."""
        return [g for g in self.gaps if g.max_gap_pp is not None]
