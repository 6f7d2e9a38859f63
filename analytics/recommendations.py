"""Recommendations generated from what the report shows: each rule names its evidence, and each
figure in the evidence names its construct and the questions it pools ("«Розуміння критеріїв
оцінювання»: учні — 59,2 % (питання 2)") or the survey whose participation it is."""

from __future__ import annotations

from dataclasses import dataclass

from analytics.labels import construct_uk, role_uk
from analytics.numbers import uk_percent, uk_pp
from analytics.records import GapResult, Report

LOW_SHARE = 70.0  # positive share below this is a weak spot
WIDE_GAP_PP = 20.0
LOW_RATE = 50.0
FAMILY = ("student", "parent")


@dataclass(frozen=True)
class Recommendation:
    title: str
    actions: str
    evidence: str


def _low(gap: GapResult | None, roles: tuple[str, ...]) -> list[tuple[str, float]]:
    if gap is None:
        return []
    return [(r, v) for r in roles if (v := gap.positive.get(r)) is not None and v < LOW_SHARE]


def _figure(gap: GapResult, role: str) -> str:
    """ "учні — 59,2 % (питання 2)": a role's share and the questions it pools."""
    value = gap.positive.get(role)
    text = f"{role_uk(role)} — {uk_percent(value) if value is not None else 'немає даних'}"
    numbers = gap.questions.get(role)
    if numbers:
        text += f" (питання {', '.join(str(n) for n in numbers)})"
    return text


def _evidence(gap: GapResult, roles: list[str]) -> str:
    """ "«Construct»: role — share (questions), ..." for the given roles."""
    return f"«{construct_uk(gap.construct)}»: " + ", ".join(_figure(gap, r) for r in roles)


_RULES: tuple[tuple[str, tuple[str, ...], str, str], ...] = (
    (
        "fairness",
        FAMILY,
        "Пояснювати й аргументувати оцінки",
        "Вчителям пояснювати та аргументувати кожну виставлену оцінку, показувати, як її "
        "покращити; відзначати досягнення учнів.",
    ),
    (
        "outcomes",
        ("teacher", *FAMILY),
        "Посилити зв'язок оцінювання з результатами",
        "Проаналізувати причини часткового досягнення бажаних результатів; впроваджувати "
        "різнорівневі завдання та індивідуальні консультації.",
    ),
    (
        "confidence",
        FAMILY,
        "Підтримувати впевненість учнів",
        "Ширше застосовувати формувальне оцінювання та конструктивний зворотний зв'язок, який "
        "пояснює не лише помилки, а й шляхи їх виправлення.",
    ),
    (
        "self_assessment",
        FAMILY,
        "Залучати учнів до самооцінювання",
        "Систематично використовувати самооцінювання та взаємооцінювання за чіткими критеріями; "
        "залучати учнів до розроблення критеріїв окремих видів робіт.",
    ),
)


def _criteria(gaps: dict[str, GapResult]) -> list[Recommendation]:
    out = []
    parts = []
    for construct in ("criteria_understanding", "criteria_informed"):
        gap = gaps.get(construct)
        low = _low(gap, FAMILY)
        if gap is not None and low:
            parts.append(_evidence(gap, [r for r, _ in low]))
    if parts:
        out.append(
            Recommendation(
                "Систематично оприлюднювати критерії оцінювання",
                "Публікувати критерії оцінювання з кожного предмета для учнів і батьків через "
                "бот classpulse (розділ «📢 Критерії оцінювання») на початку семестру та перед "
                "контрольними роботами; дублювати їх в електронному щоденнику.",
                "позитивні відповіді: " + "; ".join(parts),
            )
        )
    understanding = gaps.get("criteria_understanding")
    if (
        understanding is not None
        and understanding.max_gap_pp is not None
        and understanding.max_gap_pp >= WIDE_GAP_PP
        and understanding.high == "teacher"
    ):
        out.append(
            Recommendation(
                "Подолати розрив у розумінні критеріїв",
                "Обговорювати критерії з учнями перед виконанням завдань, на прикладах робіт; на "
                "методичних об'єднаннях опрацювати способи пояснення критеріїв.",
                "позитивні відповіді: "
                + _evidence(understanding, ["teacher", understanding.low or ""])
                + f"; різниця {uk_pp(understanding.max_gap_pp)}",
            )
        )
    return out


def recommendations(report: Report) -> list[Recommendation]:
    gaps = {g.construct: g for g in report.gaps}
    out = _criteria(gaps)
    for construct, roles, title, actions in _RULES:
        gap = gaps.get(construct)
        low = _low(gap, roles)
        if gap is not None and low:
            evidence = "позитивні відповіді: " + _evidence(gap, [r for r, _ in low])
            out.append(Recommendation(title, actions, evidence))
    weak_rates = [
        r
        for r in report.response_rates
        if r.class_name is None and r.rate is not None and r.rate < LOW_RATE
    ]
    if weak_rates:
        titles = {s.id: s.title for s in report.surveys}
        out.append(
            Recommendation(
                "Підвищити участь в опитуванні",
                "Попросити класних керівників нагадати про анкету; бот надсилає нагадування "
                "тим, хто ще не відповів.",
                "частка тих, хто відповів: "
                + "; ".join(
                    f"«{titles.get(r.survey, r.survey)}» ({r.wave}): {role_uk(r.role)} — "
                    f"{uk_percent(r.rate or 0.0)}"
                    for r in weak_rates
                ),
            )
        )
    if not out:
        out.append(
            Recommendation(
                "Продовжувати моніторинг",
                "Суттєвих слабких місць не виявлено; провести наступну хвилю опитування через бот "
                "і порівняти результати.",
                "частки позитивних відповідей за всіма напрямами не нижчі за "
                + uk_percent(LOW_SHARE),
            )
        )
    return out
