"""Report files open in the tools the school uses and contain the numbers."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from analytics import build_report, render
from analytics.records import Report
from bot.cli import main
from bot.cli.app import AppContext
from bot.settings import Settings
from storage.db import Database
from tests.analytics_fixtures import (
    PARENTS,
    Q,
    add_wave,
    options,
    seed_previous_students,
    seed_school,
)
from tests.conftest import clean_settings

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument

# python-docx, openpyxl and PIL are imported where they are used: importing openpyxl loads
# numpy, and every xdist worker imports every test module while collecting.


@pytest.fixture(scope="module")
def settings_of_school(module_db: Database, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The seeded school (this year and the students' previous one), stored once: the tests
    only read it."""
    seed_school(module_db)
    seed_previous_students(module_db)
    return clean_settings(module_db.url, tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def report(module_db: Database, settings_of_school: Settings) -> Report:
    """The seeded school's report, built once."""
    return build_report(module_db, options(settings_of_school))


@pytest.fixture(scope="module")
def written(settings_of_school: Settings, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Every file of the report, written once as the operator writes them:
    `classpulse report --all --format all --out DIR` (which is `write_all`). The tests below
    open these files as the school does; rendering every format again in a test (here or in
    tests/test_analytics_cli.py) was most of their time."""
    out = tmp_path_factory.mktemp("report") / "out"
    app = AppContext(settings=settings_of_school)
    try:
        result = CliRunner().invoke(
            main, ["report", "--all", "--format", "all", "--out", str(out)], obj=app
        )
    finally:
        app.db.dispose()
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert all(line.startswith("wrote ") for line in lines)
    return [Path(line.removeprefix("wrote ")) for line in lines]


@pytest.fixture(scope="module")
def out(written: list[Path]) -> Path:
    """The folder `write_all` wrote to."""
    return written[0].parent


@pytest.fixture(scope="module")
def docx(out: Path) -> DocxDocument:
    """report.docx, opened once (the tests only read it)."""
    from docx import Document

    return Document(str(out / "report.docx"))


def test_xlsx_sheets_numbers_and_formatting(out: Path) -> None:
    from openpyxl import load_workbook

    wb = load_workbook(out / "report.xlsx")
    assert wb.sheetnames == [
        "Анкета для вчителів",
        "Анкета для здобувачів освіти",
        "Анкета для батьків",
        "Вільні відповіді",
        "Розбіжності",
        "Активність",
        "Динаміка",
    ]
    teachers = wb["Анкета для вчителів"]
    assert teachers.freeze_panes == "A2"
    assert teachers["A1"].font.bold
    assert (teachers.column_dimensions["B"].width or 0) >= 40
    rows = [[c.value for c in row] for row in teachers.iter_rows(min_row=2)]
    q7 = [r for r in rows if r[0] == 7]
    assert q7[0][2:6] == [31, "У повній мірі", 25, pytest.approx(0.806)]
    portfolio = next(r for r in rows if r[3] == "портфоліо")
    assert portfolio[4:6] == [3, pytest.approx(0.136)]  # 3 of 22 teachers: the group is 31
    q7_cell = next(row for row in teachers.iter_rows(min_row=2) if row[0].value == 7)[5]
    assert q7_cell.number_format == "0.0%"
    gaps = [[c.value for c in row] for row in wb["Розбіжності"].iter_rows(min_row=2)]
    assert gaps[0] == [
        "Розуміння критеріїв оцінювання",
        1.0,
        pytest.approx(0.592),
        0.65,
        40.8,
        "вчителі: 7; учні: 2; батьки: 5",
    ]
    texts = [[c.value for c in row] for row in wb["Вільні відповіді"].iter_rows(min_row=2)]
    assert texts[0] == [
        "Анкета для батьків",
        8,
        "Ваші зауваження та пропозиції вчителям щодо покращення роботи з оцінювання",
        "Все влаштовує",
        2,
    ]
    assert sum(r[4] for r in texts) == 12


def test_docx_is_a_dovidka_with_prose_tables_gap_and_recommendations(docx: DocxDocument) -> None:
    doc = docx
    text = "\n".join(p.text for p in doc.paragraphs)
    assert doc.paragraphs[0].text == "Довідка"
    assert (
        "В анкетуванні взяли участь 182 респонденти: вчителі — 31, учні — 71, батьки — 80." in text
    )
    assert "31 відповідь: у повній мірі — 80,6 %; здебільшого — 19,4 %; частково — 0 %" in text
    assert "71 відповідь: у повній мірі — 25,4 %; здебільшого — 33,8 %" in text
    assert "Ключова розбіжність" in text
    assert "«Розуміння критеріїв оцінювання»" in text and "(різниця 40,8 в. п.)" in text
    assert "Систематично оприлюднювати критерії оцінювання" in text
    assert "Критерії оцінювання»" in text
    assert "Пояснювати й аргументувати оцінки" in text  # students' fairness is 52,1 %
    assert "-17,9 в. п." in text  # the trend
    table_cells = {c.text for t in doc.tables for row in t.rows for c in row.cells}
    assert {"25", "80,6", "3", "13,6", "40,8 в. п."} <= table_cells
    assert "<5" not in table_cells


def test_docx_recommendations_name_the_construct_and_question_of_each_figure(
    docx: DocxDocument,
) -> None:
    doc = docx
    recommendations = [p.text for p in doc.paragraphs if p.style.name == "List Number"]
    criteria = next(r for r in recommendations if r.startswith("Систематично оприлюднювати"))
    assert (
        "«Розуміння критеріїв оцінювання»: учні — 59,2 % (питання 2), батьки — 65 % (питання 5)"
        in criteria
    )
    assert "«Інформування про критерії оцінювання»: учні — 28,4 % (питання 11)" in criteria
    gap = next(r for r in recommendations if r.startswith("Подолати розрив"))
    assert (
        "«Розуміння критеріїв оцінювання»: вчителі — 100 % (питання 7), учні — 59,2 % "
        "(питання 2); різниця 40,8 в. п." in gap
    )
    fairness = next(r for r in recommendations if r.startswith("Пояснювати й аргументувати"))
    assert "«Справедливість і задоволеність оцінюванням»: учні — 52,1 % (питання 12)" in fairness


def test_docx_is_printed_on_a4(docx: DocxDocument) -> None:
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm, Mm

    doc = docx
    for section in doc.sections:
        assert section.page_width is not None and section.page_height is not None
        assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
        assert section.orientation == WD_ORIENT.PORTRAIT
        margins = (section.left_margin, section.right_margin, section.top_margin)
        assert [round(m.cm, 1) for m in margins if m is not None] == [2.5, 1.5, 2.0]
    # every table fits between the margins
    usable = Mm(210) - Cm(2.5) - Cm(1.5)
    for table in doc.tables:
        assert sum(c.width for c in table.columns) <= usable


def test_docx_subject_names_the_school_year(docx: DocxDocument) -> None:
    # the surveys' current waves are all 2024-2025 (the students' 2023-2024 is only the trend's)
    assert "у 2024-2025 навчальному році" in docx.paragraphs[1].text


def test_png_charts_are_phone_sized(report: Report, out: Path) -> None:
    from PIL import Image

    files = {p.name: p.read_bytes() for p in out.glob("chart-*.png")}
    assert sorted(files) == [
        "chart-assessment-parents.png",
        "chart-assessment-students.png",
        "chart-assessment-teachers.png",
        "chart-gaps.png",
    ]
    for data in files.values():
        image = Image.open(io.BytesIO(data))
        assert image.format == "PNG"
        assert 900 <= image.width <= 1300
    single = Image.open(io.BytesIO(bytes(render(report, "png"))))
    assert single.size == Image.open(io.BytesIO(files["chart-gaps.png"])).size


def test_write_all(written: list[Path], out: Path) -> None:
    """`--format all` writes every format, one line per file written (`write_all`)."""
    names = sorted(p.name for p in written)
    assert sorted(p.name for p in out.iterdir()) == names  # and nothing else
    assert names[:4] == [
        "chart-assessment-parents.png",
        "chart-assessment-students.png",
        "chart-assessment-teachers.png",
        "chart-gaps.png",
    ]
    assert {"report.json", "report.xlsx", "report.docx", "report.txt"} <= set(names)
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert data["gaps"][0]["max_gap_pp"] == 40.8
    assert "40,8 в. п." in (out / "report.txt").read_text(encoding="utf-8")


def test_no_waves_yet_is_a_clear_error(db: Database, settings: Settings) -> None:
    from analytics import ReportError

    with pytest.raises(ReportError, match="no waves yet"):
        build_report(db, options(settings))
    seed_school(db)
    with pytest.raises(ReportError, match="survey 'assessment-parents' has no wave '1999'"):
        build_report(db, options(settings), ["assessment-parents"], wave_label="1999")
    with pytest.raises(ReportError, match="unknown class '12-Я'"):
        build_report(db, options(settings), class_name="12-Я")


def _big_parents_wave(db: Database, respondents: int, texts: tuple[str, ...]) -> None:
    plan = (
        respondents,
        {
            "q1": Q("single", (respondents // 4,) * 4),
            "q5": Q("single", (respondents // 4,) * 4),
            "q8": Q("text", texts=texts),
        },
    )
    classes = {f"{grade}-А": respondents // 10 for grade in range(1, 11)}
    add_wave(db, PARENTS, "2025", plan, opens=datetime(2025, 3, 1, tzinfo=UTC), classes=classes)


def test_docx_of_many_free_texts_stays_small_and_grouped(db: Database, settings: Settings) -> None:
    # 1,400 free texts, 900 of them distinct: more than the document's paragraph bound, so a
    # renderer that quoted every text (or every distinct one) would fail here. Scale and speed
    # (20,000 responses and more) are the benchmark's: scripts/bench/.
    distinct = tuple(f"Пропозиція № {i}" for i in range(900))
    texts = ("Все влаштовує",) * 300 + ("Більше пояснювати критерії",) * 200 + distinct
    _big_parents_wave(db, 2_000, texts)
    report = build_report(db, options(settings), [PARENTS])
    from docx import Document
    from openpyxl import load_workbook

    data = bytes(render(report, "docx"))
    doc = Document(io.BytesIO(data))
    # The document does not grow with the answers: a bounded number of paragraphs.
    assert len(doc.paragraphs) < 300
    bullets = [p.text for p in doc.paragraphs if p.style.name == "List Bullet"]
    assert len(bullets) == 20  # at most 20 groups of the 1,400 answers are quoted
    assert bullets[:2] == [
        "«Все влаштовує» — 300 разів",
        "«Більше пояснювати критерії» — 200 разів",
    ]
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Вільні відповіді (1400; однакові наведено один раз, спершу найчастіші):" in text
    # 900 distinct answers, 18 of them quoted: the rest counted and left to the XLSX
    assert "Ще 882 відповіді (882 різні) — у файлі XLSX, аркуш «Вільні відповіді»." in text
    # read-only: the sheet is read as it streams in (loading big sheets whole takes seconds)
    book = load_workbook(io.BytesIO(bytes(render(report, "xlsx"))), read_only=True)
    rows = list(book["Вільні відповіді"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == 902 and sum(r[4] for r in rows) == 1_400


def test_identical_free_texts_are_grouped_whatever_their_case_spacing_or_full_stop(
    db: Database, settings: Settings
) -> None:
    texts = (
        ("Все влаштовує",) * 3
        + ("все влаштовує.", "Все  влаштовує!")
        + ("Більше прикладів",) * 2
        + tuple(f"Думка {i}" for i in range(5))
    )
    _big_parents_wave(db, 100, texts)
    report = build_report(db, options(settings), [PARENTS])
    q8 = next(q for q in report.surveys[0].questions if q.id == "q8")
    assert [(g.text, g.count) for g in q8.texts][:3] == [
        ("Все влаштовує", 5),
        ("Більше прикладів", 2),
        ("Думка 0", 1),
    ]
    from docx import Document

    doc = Document(io.BytesIO(bytes(render(report, "docx"))))
    bullets = [p.text for p in doc.paragraphs if p.style.name == "List Bullet"]
    assert bullets[:3] == ["«Все влаштовує» — 5 разів", "«Більше прикладів» — 2 рази", "«Думка 0»"]
    assert len(bullets) == 7
