"""PNG charts sized for a phone screen (about 1080 px wide): per survey, one panel per question
(single choice: one 100 % stacked bar; multi choice: a bar per option), and across surveys the
positive share per construct by role (grouped bars)."""

from __future__ import annotations

import textwrap
from io import BytesIO

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from analytics.labels import COMPARED_ROLES, construct_uk, role_uk
from analytics.numbers import uk_number
from analytics.records import GapResult, QuestionResult, Report, SurveyResult
from analytics.reports.text import hidden_note

WIDTH_IN = 6.4
DPI = 170
TOP_IN = 0.75  # the chart title
SIDE_IN = 0.2
LINE_IN = 0.2  # one line of a question title
BAR_IN = 0.42  # a single-choice bar
ROW_IN = 0.36  # one option of a multi-choice panel
GAP_IN = 0.25
BOTTOM_IN = 0.15
WRAP = 62
ROLE_COLOURS = {"teacher": "#3b6fb6", "student": "#e0823d", "parent": "#5aa05a"}
POSITIVE = ["#1a9850", "#91cf60", "#c2e699"]
NEGATIVE = {1: ["#d73027"], 2: ["#fee08b", "#d73027"], 3: ["#fee08b", "#fc8d59", "#d73027"]}
NEUTRAL = ["#8da0cb", "#a6a6d8", "#c7b5e0", "#e0c3e8"]
OTHER = "#8073ac"
MULTI = "#4a7fc1"


def _figure(width: float, height: float) -> Figure:
    """A figure outside pyplot: no display, no global figure list to close, and pyplot (a
    third of matplotlib's import time) is never loaded; savefig renders PNG with Agg."""
    return Figure(figsize=(width, height))


def _png(fig: Figure) -> bytes:
    out = BytesIO()
    # zlib level 1: the same pixels, files ~12 % bigger, and 0.4 s less per 1M-answer report
    # (PIL's default level 6 spends it squeezing flat colour areas; scripts/bench/processes.py).
    fig.savefig(out, format="png", dpi=DPI, pil_kwargs={"compress_level": 1})
    return out.getvalue()


def _colours(q: QuestionResult) -> list[str]:
    """Positive options green, the rest yellow to red; a scale without `positive` neutral."""
    if not q.positive:
        return [NEUTRAL[i % len(NEUTRAL)] for i in range(len(q.options))] + [OTHER]
    rest = [i for i in range(len(q.options)) if i not in q.positive]
    reds = NEGATIVE.get(len(rest), NEUTRAL)
    colours = {i: POSITIVE[n % len(POSITIVE)] for n, i in enumerate(q.positive)}
    colours.update({i: reds[n % len(reds)] for n, i in enumerate(rest)})
    return [colours[i] for i in range(len(q.options))] + [OTHER]


def _single(ax: Axes, q: QuestionResult) -> None:
    left = 0.0
    options = list(q.options) + ([q.other] if q.other is not None else [])
    colours = _colours(q)
    for i, option in enumerate(options):
        width = option.percent or 0.0
        # Every option is in the legend with its percent, zeros included.
        label = f"{option.label} — {uk_number(width)} %"
        ax.barh(0, width, left=left, color=colours[i], label=label)
        if width >= 7:
            ax.text(left + width / 2, 0, uk_number(width), ha="center", va="center", fontsize=9)
        left += width
    ax.set_xlim(0, 100)
    ax.set_yticks([])
    ax.set_xticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.05), ncol=2, fontsize=8, frameon=False)


def _multi(ax: Axes, q: QuestionResult) -> None:
    # Option names sit above their bars (not as tick labels) so every panel keeps full width.
    n = len(q.options)
    for i, option in enumerate(q.options):
        y = n - 1 - i
        value = 0.0 if option.percent is None else option.percent
        ax.barh(y - 0.18, value, height=0.4, color=MULTI)
        ax.text(value + 1, y - 0.18, uk_number(value), va="center", fontsize=8)
        label = textwrap.shorten(option.label, 70, placeholder="…")
        ax.text(0, y + 0.22, label, va="center", ha="left", fontsize=8.5)
    ax.set_ylim(-0.55, n - 0.4)
    ax.set_xlim(0, 110)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def _blocks(q: QuestionResult) -> tuple[list[str], float, float]:
    """Title lines, plot height and space below it (inches) of one question's panel."""
    lines = textwrap.wrap(f"{q.number}. {q.title}  (n = {q.answered})", WRAP)
    if q.kind == "single":
        options = [*q.options, *([q.other] if q.other is not None else [])]
        entries = len(options)
        return lines, BAR_IN, 0.19 * ((entries + 1) // 2) + 0.12
    return lines, ROW_IN * len(q.options), 0.1


def survey_chart(survey: SurveyResult, k: int) -> bytes:
    """One panel per question, laid out in inches so every panel keeps the full width."""
    questions = [q for q in survey.questions if q.kind != "text" and q.answered > 0]
    layout = [_blocks(q) for q in questions]
    note = []
    if survey.hidden_groups and not survey.suppressed:
        note = textwrap.wrap(f"Не враховано: {hidden_note(survey, k)}", 80)
    top_in = TOP_IN + LINE_IN * len(note)
    height = max(
        1.5,
        top_in + BOTTOM_IN + sum(LINE_IN * len(t) + h + below + GAP_IN for t, h, below in layout),
    )
    fig = _figure(WIDTH_IN, height)
    count = "приховано" if survey.suppressed else f"відповідей: {survey.respondents}"
    fig.text(
        0.5,
        1 - 0.15 / height,
        textwrap.fill(f"{survey.title}, {survey.wave} ({count})", 50),
        ha="center",
        va="top",
        fontsize=12,
        fontweight="bold",
    )
    if note:
        fig.text(0.5, 1 - TOP_IN / height, "\n".join(note), ha="center", va="top", fontsize=8.5)
    if not questions:
        empty = (
            textwrap.fill(f"Відповіді приховано: {hidden_note(survey, k)}", 60)
            if survey.suppressed
            else "Відповідей для діаграми немає"
        )
        fig.text(0.5, 0.4, empty, ha="center")
        return _png(fig)
    top = height - top_in  # inches from the bottom
    width = (WIDTH_IN - 2 * SIDE_IN) / WIDTH_IN
    for q, (lines, plot, below) in zip(questions, layout, strict=True):
        fig.text(SIDE_IN / WIDTH_IN, top / height, "\n".join(lines), va="top", fontsize=10)
        top -= LINE_IN * len(lines) + 0.08
        ax = fig.add_axes((SIDE_IN / WIDTH_IN, (top - plot) / height, width, plot / height))
        (_single if q.kind == "single" else _multi)(ax, q)
        top -= plot + below + GAP_IN
    return _png(fig)


def gaps_chart(gaps: tuple[GapResult, ...]) -> bytes:
    """Positive share per construct by role; constructs ordered by gap, largest on top."""
    shown = [g for g in gaps if any(v is not None for v in g.positive.values())]
    fig = _figure(WIDTH_IN, 1.0 + 0.9 * max(1, len(shown)))
    ax = fig.subplots()
    bar = 0.26
    for j, role in enumerate(COMPARED_ROLES):
        ys, xs = [], []
        for i, gap in enumerate(shown):
            value = gap.positive.get(role)
            if value is not None:
                ys.append(len(shown) - 1 - i + (1 - j) * bar)
                xs.append(value)
        ax.barh(ys, xs, height=bar, color=ROLE_COLOURS[role], label=role_uk(role))
        for y, x in zip(ys, xs, strict=True):
            ax.text(x + 1, y, uk_number(x), va="center", fontsize=8)
    labels = []
    for gap in shown:
        name = textwrap.fill(construct_uk(gap.construct), 24)
        if gap.max_gap_pp is not None:
            name += f"\nрозрив {uk_number(gap.max_gap_pp)} в. п."
        labels.append(name)
    ax.set_yticks(range(len(shown))[::-1])
    ax.set_yticklabels(labels, fontsize=9)
    ax.set_xlim(0, 112)
    ax.set_xlabel("позитивні відповіді, %")
    ax.set_title("Позитивні відповіді за напрямами та групами", fontsize=12, fontweight="bold")
    ax.legend(loc="lower right", fontsize=9)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    return _png(fig)


def charts(report: Report) -> dict[str, bytes]:
    """File name -> PNG: `chart-<survey>.png` per survey, `chart-gaps.png` when roles compare."""
    out = {f"chart-{s.id}.png": survey_chart(s, report.min_group_size) for s in report.surveys}
    if report.ranked_gaps():
        out["chart-gaps.png"] = gaps_chart(report.gaps)
    return out


def render_png(report: Report) -> bytes:
    """One PNG: the survey's chart for a one-survey report, else the gaps overview."""
    if len(report.surveys) == 1 or not report.ranked_gaps():
        return survey_chart(report.surveys[0], report.min_group_size)
    return gaps_chart(report.gaps)
