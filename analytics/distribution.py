"""Per-question distributions of a wave: counts and percents of those who answered, suppressed."""

from __future__ import annotations

from collections.abc import Callable

from analytics.aggregate import OTHER, WaveCounts
from analytics.numbers import percent
from analytics.records import OptionResult, QuestionResult
from analytics.suppression import suppress_line, suppress_with_blocks
from storage.survey_schema import Question

# Free texts are quoted only when at least this many people wrote one, so that no single
# text can be attributed by elimination (besides the minimum group size).
MIN_TEXTS_SHOWN = 10

TextLoader = Callable[[str], list[str]]


def _hidden(
    question: Question, counts: list[int], answered: int, k: int
) -> tuple[list[bool], bool]:
    """Hidden flags of the option cells and whether the positive share must be hidden too."""
    if answered < k:
        return [True] * len(counts), True
    if question.kind != "single":
        return suppress_line(counts, k, additive=False), True
    if question.positive:
        rest = [i for i in range(len(counts)) if i not in question.positive]
        return suppress_with_blocks(counts, k, [list(question.positive), rest])
    return suppress_line(counts, k), True


def question_result(
    question: Question,
    by_option: dict[int, int],
    answered: int,
    k: int,
    load_texts: TextLoader,
) -> QuestionResult:
    """One question's result. `by_option`: option index (or OTHER) -> answers."""
    if question.kind == "text":
        written = by_option.get(OTHER, 0)
        shown = written >= max(MIN_TEXTS_SHOWN, k)
        return QuestionResult(
            id=question.id,
            number=question.number,
            title=question.title,
            kind=question.kind,
            construct=question.construct,
            answered=answered,
            options=(),
            texts=tuple(load_texts(question.id)) if shown else (),
            texts_hidden=0 if shown else written,
            suppressed=answered < k,
        )
    counts = [by_option.get(i, 0) for i in range(len(question.options))]
    has_other = question.allow_other or by_option.get(OTHER, 0) > 0
    if has_other:
        counts.append(by_option.get(OTHER, 0))
    hidden, positive_hidden = _hidden(question, counts, answered, k)
    cells = [
        OptionResult(
            label=label,
            count=None if h else c,
            percent=None if h else percent(c, answered),
            suppressed=h,
        )
        for label, c, h in zip([*question.options, "інше"], counts, hidden, strict=False)
    ]
    options = tuple(cells[: len(question.options)])
    other = None
    texts: tuple[str, ...] = ()
    hidden_texts = 0
    if has_other:
        cell = cells[-1]
        other = cell
        written = by_option.get(OTHER, 0)
        if written >= max(MIN_TEXTS_SHOWN, k) and not cell.suppressed:
            texts = tuple(load_texts(question.id))
        else:
            hidden_texts = written
    positive_percent = None
    if question.kind == "single" and question.positive and not positive_hidden:
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
        suppressed=answered < k,
    )


def question_results(
    data: WaveCounts, k: int, load_texts: TextLoader
) -> tuple[QuestionResult, ...]:
    """Every question of the wave's survey, in questionnaire order."""
    totals = data.option_totals()
    by_question: dict[str, dict[int, int]] = {}
    for qid, option, n in totals.itertuples(index=False):
        by_question.setdefault(str(qid), {})[int(option)] = int(n)
    answered = data.answered_totals()
    return tuple(
        question_result(q, by_question.get(q.id, {}), answered.get(q.id, 0), k, load_texts)
        for q in data.survey.questions
    )
