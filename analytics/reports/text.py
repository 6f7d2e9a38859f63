"""The director's summary in Ukrainian, sized for one messenger message (< 3500 characters).

Respondents per survey, the three largest gaps between roles, response rates, and notable
changes since the previous wave. Groups smaller than the minimum are named with that reason;
every figure leaves them out (analytics/suppression.py).
"""

from __future__ import annotations

from analytics.labels import construct_uk, group_uk, role_uk, small_group_uk
from analytics.numbers import uk_percent, uk_pp
from analytics.plural import count_uk, responses_uk
from analytics.records import GapResult, RateRow, Report, SurveyResult

MAX_CHARS = 3500
TOP_GAPS = 3
TOP_CHANGES = 4
NOTABLE_PP = 5.0


def _header(report: Report) -> list[str]:
    title = f"📊 {report.school_name}: підсумки анкетування"
    lines = [title, f"Станом на {report.generated_at:%d.%m.%Y}"]
    if report.class_name:
        lines.append(f"Клас {report.class_name}")
    if report.role:
        lines.append(f"Лише {role_uk(report.role)}")
    return lines


MAX_GROUPS_NAMED = 4


def hidden_note(survey: SurveyResult, k: int) -> str:
    """ "7-А, учні: група менша за 5 осіб" (the first few groups, then how many more)."""
    names = [group_uk(g.class_name, g.role) for g in survey.hidden_groups]
    shown = "; ".join(names[:MAX_GROUPS_NAMED])
    if len(names) > MAX_GROUPS_NAMED:
        shown += f" та ще {len(names) - MAX_GROUPS_NAMED}"
    return f"{shown} — {small_group_uk(k)}"


def _respondents(surveys: tuple[SurveyResult, ...], k: int) -> list[str]:
    lines = ["", "Відповіли:"]
    for s in surveys:
        source = ", імпорт з Google Forms" if s.source == "import" else ""
        head = f"• {s.title} ({s.wave}{source})"
        if s.suppressed:
            lines.append(f"{head}: приховано ({hidden_note(s, k)})")
            continue
        line = f"{head}: {responses_uk(s.respondents)}"
        if s.hidden_groups:
            line += f" (не враховано: {hidden_note(s, k)})"
        lines.append(line)
    return lines


def _gap_line(rank: int, gap: GapResult) -> list[str]:
    shares = sorted(((r, v) for r, v in gap.positive.items() if v is not None), key=lambda x: -x[1])
    detail = " · ".join(f"{role_uk(r)} {uk_percent(v)}" for r, v in shares)
    return [
        f"{rank}. {construct_uk(gap.construct)}: {uk_pp(gap.max_gap_pp or 0.0)}",
        f"   {detail}",
    ]


def _gaps(report: Report) -> list[str]:
    ranked = report.ranked_gaps()[:TOP_GAPS]
    if ranked:
        lines = ["", "Найбільші розбіжності між групами (частка позитивних відповідей):"]
        for rank, gap in enumerate(ranked, 1):
            lines += _gap_line(rank, gap)
        return lines
    shown = [
        (g.construct, r, v) for g in report.gaps for r, v in g.positive.items() if v is not None
    ]
    if not shown:
        return []
    lines = ["", "Частка позитивних відповідей:"]
    for construct, role, value in sorted(shown, key=lambda x: x[2])[:5]:
        lines.append(f"• {construct_uk(construct)} ({role_uk(role)}): {uk_percent(value)}")
    return lines


def _rate_text(row: RateRow, k: int) -> str:
    who = role_uk(row.role)
    if row.suppressed:
        return f"{who}: приховано ({small_group_uk(k)})"
    if row.rate is None:
        return f"{who}: {row.completed} з {row.registered or 0}"
    text = (
        f"{who}: {row.completed} з {count_uk(row.registered or 0, 'особи', 'осіб', 'осіб')} "
        f"({uk_percent(row.rate)})"
    )
    if row.excluded:
        text += f", без {', '.join(row.excluded)} ({small_group_uk(k)})"
    return text


def _rates(report: Report) -> list[str]:
    # Imported waves have no rate; the respondents line already says they were imported.
    rates = [r for r in report.response_rates if r.note != "import"]
    if not rates:
        return []
    titles = {s.id: s.title for s in report.surveys}
    lines = ["", "Частка тих, хто відповів:"]
    for survey in dict.fromkeys(r.survey for r in rates):
        rows = [r for r in rates if r.survey == survey]
        totals = [r for r in rows if r.class_name is None] or rows  # one class: its rows
        parts = [_rate_text(r, report.min_group_size) for r in totals]
        by_class = [r for r in rows if r.class_name and r.rate is not None and r not in totals]
        if by_class:
            lowest = min(by_class, key=lambda r: r.rate or 0.0)
            parts.append(f"найменше — {lowest.class_name} ({uk_percent(lowest.rate or 0.0)})")
        lines.append(f"• {titles.get(survey, survey)}: " + "; ".join(parts))
    return lines


def _changes(report: Report) -> list[str]:
    lines: list[str] = []
    titles = {s.id: s.title for s in report.surveys}
    for trend in report.trend:
        notable = [
            c
            for c in trend.constructs
            if c.change_pp is not None and abs(c.change_pp) >= NOTABLE_PP
        ]
        notable.sort(key=lambda c: -abs(c.change_pp or 0.0))
        if not notable:
            continue
        title = titles.get(trend.survey, trend.survey)
        lines.append(f"• {title} ({trend.previous_wave} → {trend.wave}):")
        for c in notable[:TOP_CHANGES]:
            lines.append(
                f"  {construct_uk(c.construct)} ({role_uk(c.role)}): "
                f"{uk_percent(c.previous or 0.0)} → {uk_percent(c.current or 0.0)} "
                f"({uk_pp(c.change_pp or 0.0, signed=True)})"
            )
    return ["", "Зміни від попередньої хвилі:", *lines] if lines else []


TOP_CLASSES = 5


def _criteria(report: Report) -> list[str]:
    """Criteria vs understanding per class, largest gap first (analytics/criteria_gap.py)."""
    rows = [
        r
        for r in report.criteria_vs_understanding
        if r.families or r.confirmed_hidden or r.understanding_answered
    ]
    if not rows:
        return []
    k = report.min_group_size
    lines = ["", "Критерії оцінювання: підтвердили ✅ / розуміють (за класами):"]
    for r in rows[:TOP_CLASSES]:
        if r.confirmed_hidden:
            confirmed = f"приховано ({small_group_uk(k)})"
        elif r.confirmed_percent is None:
            confirmed = "критеріїв не надсилали"
        else:
            confirmed = f"{uk_percent(r.confirmed_percent)} ({r.confirmed} з {r.families})"
        understood = "—" if r.understanding_percent is None else uk_percent(r.understanding_percent)
        gap = "" if r.gap_pp is None else f"; розрив {uk_pp(r.gap_pp)}"
        lines.append(f"• {r.class_name}: ✅ {confirmed} / розуміють {understood}{gap}")
    return lines


def _fit(lines: list[str]) -> str:
    text = "\n".join(lines)
    if len(text) <= MAX_CHARS:
        return text
    cut = text[: MAX_CHARS - 2].rsplit("\n", 1)[0]
    return cut + "\n…"


def render_text(report: Report) -> str:
    lines = _header(report)
    k = report.min_group_size
    if not report.surveys or (report.respondents == 0 and not report.hidden_group_count):
        return "\n".join([*lines, "", "Відповідей ще немає."])
    lines += _respondents(report.surveys, k)
    lines += _gaps(report)
    lines += _rates(report)
    lines += _criteria(report)
    lines += _changes(report)
    lines += [
        "",
        f"Групи (клас і роль), менші за {count_uk(k, 'особу', 'особи', 'осіб')}, у звіті "
        "приховано й не враховано в жодній цифрі.",
    ]
    return _fit(lines)
