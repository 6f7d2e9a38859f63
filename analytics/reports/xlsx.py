"""XLSX rendering: a sheet per survey (distributions), one for gaps, one for response rates and
one for trends. Bold frozen header, sized columns, percent number format; "<k" for hidden cells.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from analytics.labels import COMPARED_ROLES, construct_uk, role_uk
from analytics.records import Report, SurveyResult

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


def _pct(value: float | None, hidden: bool, k: int) -> Any:
    if hidden:
        return f"<{k}"
    return None if value is None else value / 100


def _count(value: int | None, hidden: bool, k: int) -> Any:
    return f"<{k}" if hidden else value


def _format_percent(ws: Worksheet, columns: list[int]) -> None:
    for row in ws.iter_rows(min_row=2):
        for index in columns:
            cell = row[index - 1]
            if isinstance(cell.value, float | int):
                cell.number_format = PERCENT
            cell.alignment = Alignment(horizontal="right")


def _survey_sheet(wb: Workbook, survey: SurveyResult, k: int) -> None:
    ws = _sheet(
        wb,
        survey.title,
        ["№", "Питання", "Відповіли", "Варіант", "Кількість", "Частка"],
        [5, 60, 11, 45, 11, 10],
    )
    for q in survey.questions:
        options = list(q.options) + ([q.other] if q.other is not None else [])
        if not options:
            ws.append([q.number, q.title, q.answered, "(вільні відповіді)", q.answered, None])
        for option in options:
            ws.append(
                [
                    q.number,
                    q.title,
                    q.answered,
                    option.label,
                    _count(option.count, option.suppressed, k),
                    _pct(option.percent, option.suppressed, k),
                ]
            )
    for row in ws.iter_rows(min_row=2):
        row[1].alignment = Alignment(wrap_text=True, vertical="top")
    _format_percent(ws, [6])


def _gaps_sheet(wb: Workbook, report: Report) -> None:
    header = ["Напрям", *(role_uk(r).capitalize() for r in COMPARED_ROLES), "Розбіжність, в. п."]
    ws = _sheet(wb, "Розбіжності", header, [42, 12, 12, 12, 20])
    for gap in report.gaps:
        ws.append(
            [
                construct_uk(gap.construct),
                *(_pct(gap.positive[r], False, report.min_group_size) for r in COMPARED_ROLES),
                gap.max_gap_pp,
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
        ws.append(
            [
                r.survey,
                r.wave,
                r.class_name or "усі",
                role_uk(r.role),
                r.registered,
                _count(r.completed, r.suppressed, k),
                "імпорт" if r.note == "import" else _pct(r.rate, r.suppressed, k),
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


def render_xlsx(report: Report) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for survey in report.surveys:
        _survey_sheet(wb, survey, report.min_group_size)
    _gaps_sheet(wb, report)
    _rates_sheet(wb, report)
    if report.trend:
        _trend_sheet(wb, report)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
