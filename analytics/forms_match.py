"""Match a Forms export's columns to questions and its cells to options.

Titles match after normalising: a leading number ("7. "), case, spacing, apostrophes and
trailing punctuation are ignored, and a title followed by Google's hint (" Виберіть лише один
варіант.") matches by unambiguous prefix. Multi-choice cells join the chosen options with ", "
while options may contain commas themselves, so a cell is split by matching known options
greedily (longest first), never by commas.

`survey_fit` says how clearly a file is a given survey: how many of the file's question columns
(not the timestamp, class or e-mail/score columns) carry one of the survey's question titles,
and how many of those also hold mostly valid option texts. A file is imported only into a
survey whose titles it mostly carries and that no other known survey fits better (more columns
with titles and valid options); the cells that are still not options are then listed by row.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from storage.survey_schema import Question

_LEADING_NUMBER = re.compile(r"^\s*\d{1,3}\s*[.)]\s*")
_TRAILING = " .:;!?…*"
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "`": "'", "‘": "'", "´": "'", "«": '"', "»": '"'})
CLASS_TITLES = re.compile(r"^(клас|класс|class|grade|ваш клас|клас дитини|клас вашої дитини)$")
# Columns Google Forms adds by itself: not questions of any survey.
METADATA_TITLES = re.compile(
    r"^(email address|email|e-mail|адреса електронної пошти|електронна пошта|"
    r"адрес электронной почты|электронная почта|score|total score|бали|баллы)$"
)
FIT_SAMPLE = 200  # cells per column read to check the option texts


def normalise(text: str) -> str:
    """Lower-case, single spaces, one kind of apostrophe; lengths of words kept."""
    return " ".join(text.translate(_APOSTROPHES).split()).lower()


def normalise_title(text: str) -> str:
    return normalise(_LEADING_NUMBER.sub("", text)).rstrip(_TRAILING)


def _prefix(title: str, question_title: str) -> bool:
    """`title` is the question's title followed by more words (Google's hint)."""
    if not title.startswith(question_title) or len(question_title) < 8:
        return False
    rest = title[len(question_title) :]
    return not rest or not rest[0].isalnum()


@dataclass
class ColumnMatch:
    questions: dict[int, Question] = field(default_factory=dict)  # column index -> question
    timestamp: int | None = None
    class_column: int | None = None
    unknown: list[tuple[int, str]] = field(default_factory=list)  # (column index, title)


def match_columns(
    header: list[str], questions: tuple[Question, ...], timestamp: int | None
) -> ColumnMatch:
    titles = {q.id: normalise_title(q.title) for q in questions}
    result = ColumnMatch(timestamp=timestamp)
    taken: set[str] = set()
    for index, raw in enumerate(header):
        if index == timestamp:
            continue
        title = normalise_title(raw)
        if not title:
            result.unknown.append((index, raw))
            continue
        exact = [q for q in questions if titles[q.id] == title]
        prefixed = [q for q in questions if _prefix(title, titles[q.id])]
        # The longest matching title wins a prefix match ("X" vs "X and more").
        candidates = exact or sorted(prefixed, key=lambda q: -len(titles[q.id]))[:1]
        if len(exact) > 1:
            candidates = []
        question = candidates[0] if candidates else None
        if question is not None and question.id not in taken:
            result.questions[index] = question
            taken.add(question.id)
        elif result.class_column is None and CLASS_TITLES.match(title):
            result.class_column = index
        else:
            result.unknown.append((index, raw))
    return result


@dataclass(frozen=True)
class Parsed:
    """A cell read against a question: chosen option indexes and free text left over."""

    indexes: tuple[int, ...]
    rest: tuple[str, ...]  # parts matching no option (kept as "other" or reported)


class OptionMatcher:
    """Reads cells of one question; results are memoised (exports repeat the same cells)."""

    def __init__(self, question: Question) -> None:
        self.question = question
        self._options = sorted(
            ((normalise(o), i) for i, o in enumerate(question.options)), key=lambda x: -len(x[0])
        )
        self._exact = {normalise(o): i for i, o in enumerate(question.options)}
        self._exact.update(
            {normalise(o).rstrip(_TRAILING): i for i, o in enumerate(question.options)}
        )
        self._cache: dict[str, Parsed] = {}

    def parse(self, cell: str) -> Parsed:
        hit = self._cache.get(cell)
        if hit is None:
            hit = self._parse(cell)
            if len(self._cache) < 100_000:
                self._cache[cell] = hit
        return hit

    def _parse(self, cell: str) -> Parsed:
        raw = " ".join(cell.split())
        norm = normalise(raw)
        if self.question.kind == "single":
            index = self._exact.get(norm, self._exact.get(norm.rstrip(_TRAILING)))
            return Parsed((index,), ()) if index is not None else Parsed((), (raw,))
        if len(norm) != len(raw):  # lower() changed a length: match on the normalised text
            raw = norm
        return self._split(raw, norm)

    def _option_at(self, norm: str, pos: int) -> tuple[int, int] | None:
        """(option index, end) of the longest option spelled at `pos` and ending a part."""
        for option, index in self._options:
            end = pos + len(option)
            if norm.startswith(option, pos) and (end == len(norm) or norm.startswith(", ", end)):
                return index, end
        return None

    def _split(self, raw: str, norm: str) -> Parsed:
        indexes: list[int] = []
        rest: list[str] = []
        pos = 0
        while pos < len(norm):
            found = self._option_at(norm, pos)
            if found is not None:
                if found[0] not in indexes:
                    indexes.append(found[0])
                pos = found[1] + 2
            else:
                # No option starts here: the text up to the next ", " that begins a known option
                # (or the end) is an unknown part, e.g. Google's "Other" text.
                end = self._next_option_start(norm, pos)
                part = raw[pos:end].strip().rstrip(",").strip()
                if part:
                    rest.append(part)
                pos = end + 2
        return Parsed(tuple(sorted(indexes)), tuple(rest))

    def _next_option_start(self, norm: str, pos: int) -> int:
        search = pos
        while True:
            comma = norm.find(", ", search)
            if comma < 0:
                return len(norm)
            if self._option_at(norm, comma + 2) is not None:
                return comma
            search = comma + 2


@dataclass(frozen=True)
class SurveyFit:
    """How well a file's columns fit one survey."""

    survey_id: str
    titled: int  # question columns titled as one of this survey's questions
    found: int  # ... of which most sampled cells are valid option texts
    columns: int  # the file's question columns (all but timestamp, class and metadata)

    @property
    def clear(self) -> bool:
        """Most of the file's question columns are titled as this survey's questions."""
        return self.titled > 0 and 2 * self.titled > self.columns


def _values_fit(question: Question, cells: list[str]) -> bool:
    """Most of the sampled non-empty cells are the question's options (or may be "other")."""
    if question.kind == "text" or question.allow_other or not cells:
        return True
    matcher = OptionMatcher(question)
    valid = sum(1 for cell in cells if not matcher.parse(cell).rest)
    return 2 * valid > len(cells)


def survey_fit(
    header: list[str],
    rows: Sequence[Sequence[object]],
    survey_id: str,
    questions: tuple[Question, ...],
    timestamp: int | None,
) -> SurveyFit:
    match = match_columns(header, questions, timestamp)
    found = 0
    for index, question in match.questions.items():
        cells: list[str] = []
        for row in rows:
            cell = row[index]
            if cell is not None and str(cell).strip():
                cells.append(str(cell))
                if len(cells) >= FIT_SAMPLE:
                    break
        found += _values_fit(question, cells)
    others = [
        title
        for _, title in match.unknown
        if normalise_title(title) and not METADATA_TITLES.match(normalise_title(title))
    ]
    return SurveyFit(survey_id, len(match.questions), found, len(match.questions) + len(others))
