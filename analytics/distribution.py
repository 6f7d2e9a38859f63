"""Per-question distributions of a wave's shown slices: every count and its percent.

Small groups are protected before this point (analytics/suppression.py: hidden slices are not
in the counts at all), so every count here is shown, zeros included. Free texts are quoted only
when at least MIN_TEXTS_SHOWN people wrote one, grouped: identical answers once, with a count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from analytics.aggregate import OTHER, WaveCounts
from analytics.labels import uk_sort_key
from analytics.numbers import percent
from analytics.records import OptionResult, QuestionResult, TextGroup
from storage.survey_schema import Question

# Free texts are quoted only when at least this many people wrote one, so that no single
# text can be attributed by elimination (besides the minimum group size).
MIN_TEXTS_SHOWN = 10
_TRAILING = " .!…"

# question id -> (text, how many wrote exactly it)
TextLoader = Callable[[str], list[tuple[str, int]]]


def _text_key(text: str) -> str:
    return " ".join(text.split()).casefold().rstrip(_TRAILING)


def group_texts(rows: Iterable[tuple[str, int]]) -> tuple[TextGroup, ...]:
    """Identical answers (up to case, spacing and final punctuation) once, with their count;
    most frequent first, then alphabetically (never in the order people wrote them). Each group
    is shown in its most frequent spelling."""
    groups: dict[str, dict[str, int]] = {}
    for text, n in rows:
        spellings = groups.setdefault(_text_key(text), {})
        clean = " ".join(text.split())
        spellings[clean] = spellings.get(clean, 0) + n
    out = [
        TextGroup(min(spellings, key=lambda t: (-spellings[t], t)), sum(spellings.values()))
        for spellings in groups.values()
    ]
    out.sort(key=lambda g: (-g.count, uk_sort_key(g.text), g.text))
    return tuple(out)


def question_result(
    question: Question,
    by_option: dict[int, int],
    answered: int,
    k: int,
    load_texts: TextLoader,
) -> QuestionResult:
    """One question's result. `by_option`: option index (or OTHER) -> answers."""
    min_texts = max(MIN_TEXTS_SHOWN, k)
    if question.kind == "text":
        written = by_option.get(OTHER, 0)
        shown = written >= min_texts
        return QuestionResult(
            id=question.id,
            number=question.number,
            title=question.title,
            kind=question.kind,
            construct=question.construct,
            answered=answered,
            options=(),
            texts=group_texts(load_texts(question.id)) if shown else (),
            texts_hidden=0 if shown else written,
        )
    counts = [by_option.get(i, 0) for i in range(len(question.options))]
    options = tuple(
        OptionResult(label=label, count=c, percent=percent(c, answered))
        for label, c in zip(question.options, counts, strict=True)
    )
    other = None
    texts: tuple[TextGroup, ...] = ()
    hidden_texts = 0
    written = by_option.get(OTHER, 0)
    if question.allow_other or written > 0:
        other = OptionResult(label="інше", count=written, percent=percent(written, answered))
        if written >= min_texts:
            texts = group_texts(load_texts(question.id))
        else:
            hidden_texts = written
    positive_percent = None
    if question.kind == "single" and question.positive:
        positive_percent = percent(sum(counts[i] for i in question.positive), answered)
    return QuestionResult(
        id=question.id,
        number=question.number,
        title=question.title,
        kind=question.kind,
        construct=question.construct,
        answered=answered,
        options=options,
        other=other,
        texts=texts,
        texts_hidden=hidden_texts,
        positive=question.positive,
        positive_percent=positive_percent,
    )


def question_results(
    data: WaveCounts, k: int, load_texts: TextLoader
) -> tuple[QuestionResult, ...]:
    """Every question of the wave's survey, in questionnaire order (none if all is hidden)."""
    if data.total_respondents == 0 and data.hidden:
        return ()
    by_question = data.option_totals()
    answered = data.answered_totals()
    return tuple(
        question_result(q, by_question.get(q.id, {}), answered.get(q.id, 0), k, load_texts)
        for q in data.survey.questions
    )
