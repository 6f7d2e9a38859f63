"""XLSX rendering: a sheet per survey (distributions), one with every free answer (grouped), one
for gaps, one for response rates and one for trends. Bold frozen header, sized columns, percent
number format. Groups smaller than the minimum are named with that reason and counted nowhere.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from analytics.distribution import MIN_TEXTS_SHOWN
from analytics.labels import COMPARED_ROLES, construct_uk, role_uk, small_group_uk
from analytics.records import Report, SurveyResult
from analytics.reports.text import hidden_note

PERCENT = "0.0%"
_BAD_SHEET_CHARS = str.maketrans({c: " " for c in "[]:*?/\\"})


def _sheet(wb: Workbook, title: str, header: list[str], widths: list[int]) -> Worksheet:
    ws = wb.create_sheet(title.translate(_BAD_SHEET_CHARS)[:31])
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    for i, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    return ws


def _pct(value: float | None) -> Any:
    return None if value is None else value / 100


def _format_percent(ws: Worksheet, columns: list[int]) -> None:
    for row in ws.iter_rows(min_row=2):
        for index in columns:
            cell = row[index - 1]
            if isinstance(cell.value, float | int):
                cell.number_format = PERCENT
            cell.alignment = Alignment(horizontal="right")


def _texts_note(k: int) -> str:
    least = max(MIN_TEXTS_SHOWN, k)
    return f"(вільні відповіді не наводяться: їх написали менше ніж {least} осіб)"


def _survey_sheet(wb: Workbook, survey: SurveyResult, k: int) -> None:
    ws = _sheet(
        wb,
        survey.title,
        ["№", "Питання", "Відповіли", "Варіант", "Кількість", "Частка"],
        [5, 60, 11, 45, 11, 10],
    )
    if survey.suppressed:
        ws.append([None, f"Відповіді приховано: {hidden_note(survey, k)}"])
    for q in survey.questions:
        options = list(q.options) + ([q.other] if q.other is not None else [])
        if not options:
            label = (
                _texts_note(k) if q.texts_hidden else "(вільні відповіді: аркуш «Вільні відповіді»)"
            )
            ws.append([q.number, q.title, q.answered, label, q.answered, None])
        for option in options:
            ws.append(
                [q.number, q.title, q.answered, option.label, option.count, _pct(option.percent)]
            )
    if survey.hidden_groups and not survey.suppressed:
        ws.append([])
        ws.append([None, f"Не враховано в жодній цифрі: {hidden_note(survey, k)}"])
    for row in ws.iter_rows(min_row=2):
        row[1].alignment = Alignment(wrap_text=True, vertical="top")
    _format_percent(ws, [6])


def _texts_sheet(wb: Workbook, report: Report) -> None:
    """Every shown free answer, grouped (the DOCX quotes only the most frequent ones)."""
    rows = [
        [s.title, q.number, q.title, group.text, group.count]
        for s in report.surveys
        for q in s.questions
        for group in q.texts
    ]
    if not rows:
        return
    # One Alignment for every cell: building one per cell was most of the time of a sheet of
    # thousands of answers (openpyxl stores each distinct style once anyway).
    wrap = Alignment(wrap_text=True, vertical="top")
    ws = _sheet(
        wb,
        "Вільні відповіді",
        ["Анкета", "№", "Питання", "Відповідь", "Скільки осіб"],
        [26, 5, 40, 70, 13],
    )
    for row in rows:
        ws.append(row)
    for row in ws.iter_rows(min_row=2):
        row[2].alignment = wrap
        row[3].alignment = wrap


def _gaps_sheet(wb: Workbook, report: Report) -> None:
    header = [
        "Напрям",
        *(role_uk(r).capitalize() for r in COMPARED_ROLES),
        "Розбіжність, в. п.",
        "Питання анкет",
    ]
    ws = _sheet(wb, "Розбіжності", header, [42, 12, 12, 12, 20, 36])
    for gap in report.gaps:
        questions = "; ".join(
            f"{role_uk(r)}: {', '.join(str(n) for n in gap.questions[r])}"
            for r in COMPARED_ROLES
            if gap.questions.get(r)
        )
        ws.append(
            [
                construct_uk(gap.construct),
                *(_pct(gap.positive[r]) for r in COMPARED_ROLES),
                gap.max_gap_pp,
                questions,
            ]
        )
    _format_percent(ws, [2, 3, 4])


def _rates_sheet(wb: Workbook, report: Report) -> None:
    ws = _sheet(
        wb,
        "Активність",
        ["Анкета", "Хвиля", "Клас", "Роль", "Зареєстровано", "Відповіли", "Частка"],
        [26, 12, 10, 10, 14, 11, 10],
    )
    k = report.min_group_size
    for r in report.response_rates:
        where = r.class_name or "усі"
        if r.excluded:
            where += ", крім " + ", ".join(r.excluded)
        ws.append(
            [
                r.survey,
                r.wave,
                where,
                role_uk(r.role),
                r.registered,
                f"приховано: {small_group_uk(k)}" if r.suppressed else r.completed,
                "імпорт" if r.note == "import" else _pct(r.rate),
            ]
        )
    _format_percent(ws, [7])


def _trend_sheet(wb: Workbook, report: Report) -> None:
    ws = _sheet(
        wb,
        "Динаміка",
        [
            "Анкета",
            "Було",
            "Стало",
            "Напрям / питання",
            "Варіант / роль",
            "Було, %",
            "Стало, %",
            "Зміна, в. п.",
        ],
        [26, 12, 12, 40, 30, 10, 10, 13],
    )
    for t in report.trend:
        for c in t.constructs:
            ws.append(
                [
                    t.survey,
                    t.previous_wave,
                    t.wave,
                    construct_uk(c.construct),
                    role_uk(c.role),
                    c.previous,
                    c.current,
                    c.change_pp,
                ]
            )
        for o in t.options:
            ws.append(
                [
                    t.survey,
                    t.previous_wave,
                    t.wave,
                    f"Питання {o.number}",
                    o.label,
                    o.previous,
                    o.current,
                    o.change_pp,
                ]
            )


def _criteria_sheet(wb: Workbook, report: Report) -> None:
    ws = _sheet(
        wb,
        "Критерії і розуміння",
        ["Клас", "Отримали критерії", "Підтвердили ✅", "Частка ✅", "Розуміють", "Розрив, в. п."],
        [10, 18, 16, 12, 12, 14],
    )
    k = report.min_group_size
    for r in report.criteria_vs_understanding:
        hidden = f"приховано: {small_group_uk(k)}"
        ws.append(
            [
                r.class_name,
                hidden if r.confirmed_hidden else r.families,
                hidden if r.confirmed_hidden else r.confirmed,
                _pct(r.confirmed_percent),
                _pct(r.understanding_percent),
                r.gap_pp,
            ]
        )
    _format_percent(ws, [4, 5])


def render_xlsx(report: Report) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for survey in report.surveys:
        _survey_sheet(wb, survey, report.min_group_size)
    _texts_sheet(wb, report)
    _gaps_sheet(wb, report)
    _rates_sheet(wb, report)
    if report.criteria_vs_understanding:
        _criteria_sheet(wb, report)
    if report.trend:
        _trend_sheet(wb, report)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
