"""DOCX "Довідка" modelled on the school's own report: title and subject, purpose, who was
surveyed, a section per survey (each question in prose with a table), the key gap, response
rates, changes since the previous wave, and recommendations drawn from the data.

Printed on A4. Free answers are grouped (identical ones once, with how many wrote them, most
frequent first) and at most MAX_TEXT_GROUPS groups are quoted; the rest are counted and left to
the XLSX. So the document's size depends on the questionnaire, not on how many answered.
Groups smaller than the minimum are named with that reason and counted nowhere."""

from __future__ import annotations

import re
from io import BytesIO

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt, Twips
from docx.styles.style import ParagraphStyle

from analytics.distribution import MIN_TEXTS_SHOWN
from analytics.labels import COMPARED_ROLES, construct_uk, role_uk, small_group_uk
from analytics.numbers import uk_number, uk_percent, uk_pp
from analytics.plural import count_uk, responses_uk
from analytics.recommendations import recommendations
from analytics.records import OptionResult, QuestionResult, Report, SurveyResult, TextGroup
from analytics.reports.text import hidden_note

MAX_TEXT_GROUPS = 20
A4 = (Twips(11906), Twips(16838))  # 210 x 297 mm, as Word itself stores A4
# Margins usual for school documents: wide left margin for binding.
MARGINS = {"left": Cm(2.5), "right": Cm(1.5), "top": Cm(2.0), "bottom": Cm(2.0)}
_SCHOOL_YEAR = re.compile(r"^(\d{4})-(\d{4})$")
_EMOJI = re.compile("[\U00010000-\U0010ffff]\\s?")
PURPOSE = (
    "Мета анкетування — з'ясувати, як учасники освітнього процесу сприймають систему "
    "оцінювання в закладі: наскільки зрозумілі та доступні критерії оцінювання, чи вважають "
    "оцінювання справедливим, чи допомагає воно досягати бажаних результатів."
)


def _subject(report: Report) -> str:
    waves = {s.wave for s in report.surveys}
    text = "про результати анкетування учасників освітнього процесу щодо системи оцінювання"
    if len(waves) == 1 and (m := _SCHOOL_YEAR.match(next(iter(waves)))):
        text += f" у {m.group(1)}-{m.group(2)} навчальному році"
    elif waves:
        text += " (хвилі: " + ", ".join(sorted(waves)) + ")"
    if report.class_name:
        text += f", клас {report.class_name}"
    return text


def _cell_text(option: OptionResult) -> str:
    return "—" if option.percent is None else uk_percent(option.percent)


def _question_prose(q: QuestionResult) -> str:
    if q.answered == 0:
        return "Відповідей на це питання немає."
    options = list(q.options) + ([q.other] if q.other is not None else [])
    parts = [f"{o.label[:1].lower()}{o.label[1:]} — {_cell_text(o)}" for o in options]
    note = (
        " (можна було обрати кілька варіантів, тому сума перевищує 100 %)"
        if q.kind == "multi"
        else ""
    )
    return f"{responses_uk(q.answered)}{note}: " + "; ".join(parts) + "."


def _printable(text: str) -> str:
    """Without emoji: print fonts lack them (the bot's button keeps its 📢 on screen)."""
    return _EMOJI.sub("", text)


def _table(
    doc: DocumentObject, header: list[str], rows: list[list[str]], widths_cm: list[float]
) -> None:
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.autofit = False
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for values in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, values, strict=True):
            cell.text = text
    # Widths go on the grid columns (LibreOffice) and on every cell (Word).
    for column, width in zip(table.columns, widths_cm, strict=True):
        column.width = Cm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths_cm, strict=True):
            cell.width = Cm(width)
    doc.add_paragraph()


class _Styles:
    """Paragraph styles looked up once: python-docx resolves a style name on every call."""

    def __init__(self, doc: DocumentObject) -> None:
        self.bullet = doc.styles["List Bullet"]
        self.number = doc.styles["List Number"]
        assert isinstance(self.bullet, ParagraphStyle)
        assert isinstance(self.number, ParagraphStyle)


def _survey_section(
    doc: DocumentObject, styles: _Styles, index: int, survey: SurveyResult, k: int
) -> None:
    doc.add_heading(f"{index}. {survey.title}", level=2)
    source = " (імпорт з Google Forms)" if survey.source == "import" else ""
    if survey.suppressed:
        doc.add_paragraph(
            f"Хвиля {survey.wave}{source}: відповіді приховано ({hidden_note(survey, k)})."
        )
        return
    doc.add_paragraph(f"Хвиля {survey.wave}{source}: {responses_uk(survey.respondents)}.")
    if survey.hidden_groups:
        doc.add_paragraph(f"Не враховано в жодній цифрі: {hidden_note(survey, k)}.")
    for q in survey.questions:
        title = doc.add_paragraph()
        title.add_run(f"{q.number}. {q.title}").bold = True
        if q.kind == "text":
            _texts(doc, styles, q, k)
            continue
        doc.add_paragraph(_question_prose(q))
        if q.answered == 0:
            continue
        options = list(q.options) + ([q.other] if q.other is not None else [])
        rows = [
            [
                o.label,
                str(o.count),
                "—" if o.percent is None else uk_number(o.percent),
            ]
            for o in options
        ]
        _table(doc, ["Варіант відповіді", "Кількість", "Частка, %"], rows, [10.5, 3.0, 3.0])
        if q.other is not None and (q.texts or q.texts_hidden):
            _texts(doc, styles, q, k)


def _quote(group: TextGroup) -> str:
    times = f" — {count_uk(group.count, 'раз', 'рази', 'разів')}" if group.count > 1 else ""
    return f"«{group.text}»{times}"


def _texts(doc: DocumentObject, styles: _Styles, q: QuestionResult, k: int) -> None:
    if q.texts:
        total = sum(g.count for g in q.texts)
        doc.add_paragraph(
            f"Вільні відповіді ({total}; однакові наведено один раз, спершу найчастіші):"
        )
        for group in q.texts[:MAX_TEXT_GROUPS]:
            doc.add_paragraph(_quote(group), style=styles.bullet)
        rest = q.texts[MAX_TEXT_GROUPS:]
        if rest:
            answers = sum(g.count for g in rest)
            different = count_uk(len(rest), "різна", "різні", "різних")
            doc.add_paragraph(
                f"Ще {responses_uk(answers)} ({different}) — у файлі XLSX, "
                "аркуш «Вільні відповіді»."
            )
    elif q.texts_hidden:
        least = max(MIN_TEXTS_SHOWN, k)
        doc.add_paragraph(
            f"{responses_uk(q.texts_hidden)}: не наводяться, бо їх написали менше ніж "
            f"{least} осіб (щоб не впізнати автора)."
        )
    elif q.kind == "text":
        doc.add_paragraph("Вільних відповідей немає.")


def _key_gap(doc: DocumentObject, report: Report) -> None:
    ranked = report.ranked_gaps()
    if not ranked:
        return
    doc.add_heading("Ключова розбіжність", level=2)
    top = ranked[0]
    shares = sorted(((r, v) for r, v in top.positive.items() if v is not None), key=lambda x: -x[1])
    detail = ", ".join(f"{role_uk(r)} — {uk_percent(v)}" for r, v in shares)
    doc.add_paragraph(
        f"Найбільша розбіжність між групами — «{construct_uk(top.construct)}»: частка "
        f"позитивних відповідей становить: {detail} (різниця {uk_pp(top.max_gap_pp or 0.0)})."
    )
    rows = [
        [
            construct_uk(g.construct),
            *(uk_percent(v) if (v := g.positive[r]) is not None else "—" for r in COMPARED_ROLES),
            uk_pp(g.max_gap_pp) if g.max_gap_pp is not None else "—",
        ]
        for g in report.gaps
    ]
    header = ["Напрям", *(role_uk(r).capitalize() for r in COMPARED_ROLES), "Розбіжність"]
    _table(doc, header, rows, [6.1, 2.4, 2.4, 2.4, 3.2])


def _rates(doc: DocumentObject, report: Report) -> None:
    rows = [r for r in report.response_rates if r.note != "import"]
    if not rows:
        return
    doc.add_heading("Участь в опитуванні", level=2)
    k = report.min_group_size
    titles = {survey.id: survey.title for survey in report.surveys}
    _table(
        doc,
        ["Анкета", "Клас", "Роль", "Зареєстровано", "Відповіли", "Частка"],
        [
            [
                titles.get(r.survey, r.survey),
                (r.class_name or "усі") + (f", крім {', '.join(r.excluded)}" if r.excluded else ""),
                role_uk(r.role),
                str(r.registered or 0),
                f"приховано: {small_group_uk(k)}" if r.suppressed else str(r.completed),
                "—" if r.suppressed or r.rate is None else uk_percent(r.rate),
            ]
            for r in rows
        ],
        [4.0, 2.3, 2.0, 2.8, 3.0, 2.4],
    )


def _criteria(doc: DocumentObject, report: Report) -> None:
    rows = report.criteria_vs_understanding
    if not rows:
        return
    doc.add_heading("Критерії оцінювання: отримали, підтвердили, розуміють", level=2)
    k = report.min_group_size
    hidden = f"приховано: {small_group_uk(k)}"
    _table(
        doc,
        ["Клас", "Підтвердили ✅", "Частка ✅", "Розуміють", "Розрив"],
        [
            [
                r.class_name,
                hidden if r.confirmed_hidden else f"{r.confirmed} з {r.families}",
                "—" if r.confirmed_percent is None else uk_percent(r.confirmed_percent),
                "—" if r.understanding_percent is None else uk_percent(r.understanding_percent),
                "—" if r.gap_pp is None else uk_pp(r.gap_pp),
            ]
            for r in rows
        ],
        [2.3, 4.4, 2.8, 2.8, 3.0],
    )


def _trend(doc: DocumentObject, styles: _Styles, report: Report) -> None:
    lines = [
        f"{construct_uk(c.construct)} ({role_uk(c.role)}): {uk_percent(c.previous)} → "
        f"{uk_percent(c.current)} ({uk_pp(c.change_pp, signed=True)}), хвилі "
        f"{t.previous_wave} → {t.wave}."
        for t in report.trend
        for c in t.constructs
        if c.previous is not None and c.current is not None and c.change_pp is not None
    ]
    if not lines:
        return
    doc.add_heading("Динаміка порівняно з попередньою хвилею", level=2)
    for line in lines:
        doc.add_paragraph(line, style=styles.bullet)


def _recommendations(doc: DocumentObject, styles: _Styles, report: Report) -> None:
    doc.add_heading("Рекомендації", level=2)
    for rec in recommendations(report):
        paragraph = doc.add_paragraph(style=styles.number)
        paragraph.add_run(rec.title + ". ").bold = True
        paragraph.add_run(_printable(rec.actions) + " ")
        end = "" if rec.evidence.endswith((".", ")")) else "."
        paragraph.add_run(f"(Підстава: {rec.evidence}{end})").italic = True


def _a4(doc: DocumentObject) -> None:
    for section in doc.sections:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = A4
        section.left_margin = MARGINS["left"]
        section.right_margin = MARGINS["right"]
        section.top_margin = MARGINS["top"]
        section.bottom_margin = MARGINS["bottom"]


def _participants(report: Report) -> str:
    by_role: dict[str, int] = {}
    for s in report.surveys:
        for role, n in s.respondents_by_role.items():
            by_role[role] = by_role.get(role, 0) + n
    who = ", ".join(f"{role_uk(r)} — {n}" for r, n in by_role.items())
    hidden = report.hidden_group_count
    if not hidden:
        total = count_uk(report.respondents, "респондент", "респонденти", "респондентів")
        return f"В анкетуванні взяли участь {total}: {who}."
    small = (
        f"груп (клас і роль), менших за {count_uk(report.min_group_size, 'особу', 'особи', 'осіб')}"
    )
    if report.respondents == 0:
        return f"Усі відповіді приховано: це відповіді {small} (таких груп: {hidden})."
    total = count_uk(report.respondents, "респондента", "респондентів", "респондентів")
    return (
        f"У довідці враховано відповіді {total}: {who}. Відповіді {small}, приховано й не "
        f"враховано (таких груп: {hidden})."
    )


def render_docx(report: Report) -> bytes:
    doc = Document()
    _a4(doc)
    styles = _Styles(doc)
    normal = doc.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(12)
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run("Довідка")
    run.bold = True
    run.font.size = Pt(16)
    subject = doc.add_paragraph(_subject(report))
    subject.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph(report.school_name).alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph(PURPOSE)
    doc.add_paragraph(_participants(report))
    k = report.min_group_size
    for index, survey in enumerate(report.surveys, 1):
        _survey_section(doc, styles, index, survey, k)
    _key_gap(doc, report)
    _rates(doc, report)
    _criteria(doc, report)
    _trend(doc, styles, report)
    _recommendations(doc, styles, report)
    doc.add_paragraph(
        f"Довідку сформовано автоматично (classpulse) {report.generated_at:%d.%m.%Y}. Частки "
        f"обчислено від тих, хто відповів на питання; групи (клас і роль), менші за "
        f"{count_uk(k, 'особу', 'особи', 'осіб')}, приховано й не враховано в жодній цифрі."
    ).runs[0].italic = True
    out = BytesIO()
    doc.save(out)
    return out.getvalue()
