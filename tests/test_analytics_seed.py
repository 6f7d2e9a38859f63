"""The seed school's report reproduced from stored anonymous responses, with the default minimum
group size (5): every percentage of the school's "Довідка" to 0.1, in the model and in what the
director reads (text, JSON, XLSX, DOCX), and the ranked gaps with criteria_understanding on top.

Every seed group is at least 13 people, so nothing is hidden and every count is shown: the
report's key finding that 23 of 80 parents never receive the criteria stays visible."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from analytics import build_report, render
from analytics.records import Report
from bot.settings import Settings
from storage.db import Database
from tests.analytics_fixtures import PARENTS, SEED, STUDENTS, TEACHERS, options, seed_school
from tests.conftest import clean_settings


@pytest.fixture(scope="module")
def report(module_db: Database, tmp_path_factory: pytest.TempPathFactory) -> Report:
    """The default settings: minimum group 5. Stored and built once: the tests only read it."""
    seed_school(module_db)
    settings = clean_settings(module_db.url, tmp_path_factory.mktemp("seed") / "data")
    assert settings.min_group_size == 5
    return build_report(module_db, options(settings))


def _question(report: Report, survey: str, qid: str) -> Any:
    s = next(s for s in report.surveys if s.id == survey)
    return next(q for q in s.questions if q.id == qid)


# (survey, question, answered, percents in option order) as the seed report prints them.
# Percentages are rounded half up from the counts, which the seed questionnaires document calls
# the truth: where the "Довідка" itself is inconsistent (23/80 = 28.75 % printed as 28.7 in
# question 1 and 28.5 in question 5, 21/80 = 26.25 % as 26.2, while 29/80 = 36.25 % is 36.3 and
# 7/80 = 8.75 % is 8.8) the report says 28.8 and 26.3: no one rounding rule gives all of them.
SEED_PERCENTS = [
    (TEACHERS, "q7", 31, [80.6, 19.4, 0.0, 0.0]),
    (TEACHERS, "q8", 31, [29.0, 45.2, 25.8, 0.0]),
    (TEACHERS, "q4", 22, [90.9, 72.7, 13.6, 18.2]),
    (TEACHERS, "q2", 22, [59.1, 63.6, 68.2, 63.6, 22.7, 72.7, 40.9, 68.2, 86.4]),
    (STUDENTS, "q2", 71, [25.4, 33.8, 18.3, 22.5]),
    (STUDENTS, "q11", 67, [28.4, 53.7, 17.9]),
    (STUDENTS, "q12", 71, [15.5, 36.6, 28.2, 19.7]),
    (STUDENTS, "q5", 71, [25.4, 21.1, 19.7, 33.8]),
    (STUDENTS, "q6", 71, [16.9, 18.3, 33.8, 31.0]),
    (PARENTS, "q5", 80, [28.8, 36.3, 13.8, 21.3]),
    (PARENTS, "q1", 80, [36.3, 30.0, 5.0, 28.8]),
    (PARENTS, "q2", 80, [15.0, 61.3, 3.8, 20.0]),
    (PARENTS, "q6", 80, [8.8, 42.5, 22.5, 26.3]),
]


@pytest.mark.parametrize(("survey", "qid", "answered", "percents"), SEED_PERCENTS)
def test_each_seed_percentage_is_reproduced(
    report: Report, survey: str, qid: str, answered: int, percents: list[float]
) -> None:
    q = _question(report, survey, qid)
    assert q.answered == answered
    assert [o.percent for o in q.options] == percents
    assert [o.count for o in q.options] == list(SEED[survey][1][qid].counts)


def _uk(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".").replace(".", ",")


@pytest.fixture(scope="module")
def rendered(report: Report) -> dict[str, Any]:
    from docx import Document  # here, not at collection (openpyxl loads numpy)
    from openpyxl import load_workbook

    doc = Document(io.BytesIO(bytes(render(report, "docx"))))
    wb = load_workbook(io.BytesIO(bytes(render(report, "xlsx"))))
    return {
        "json": json.loads(str(render(report, "json"))),
        "docx_text": "\n".join(p.text for p in doc.paragraphs),
        "docx_cells": [[c.text for c in row.cells] for t in doc.tables for row in t.rows],
        "xlsx": {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in wb},
    }


@pytest.mark.parametrize(("survey", "qid", "answered", "percents"), SEED_PERCENTS)
def test_each_seed_percentage_is_in_every_rendered_format(
    report: Report,
    rendered: dict[str, Any],
    survey: str,
    qid: str,
    answered: int,
    percents: list[float],
) -> None:
    counts = list(SEED[survey][1][qid].counts)
    q = _question(report, survey, qid)
    title = next(s.title for s in report.surveys if s.id == survey)
    # JSON: counts and percents, no cell withheld
    data = next(s for s in rendered["json"]["surveys"] if s["id"] == survey)
    jq = next(x for x in data["questions"] if x["id"] == qid)
    assert jq["answered"] == answered
    assert [o["count"] for o in jq["options"]] == counts
    assert [o["percent"] for o in jq["options"]] == percents
    # XLSX: the survey's sheet has one row per option with the count and the fraction
    rows = [r for r in rendered["xlsx"][title[:31]][1:] if r[0] == q.number]
    assert [r[2] for r in rows] == [answered] * len(counts)
    assert [r[4] for r in rows] == counts
    assert [r[5] for r in rows] == [pytest.approx(p / 100) for p in percents]
    # DOCX: the prose names every option with its percent, and the table has the counts
    prose = "; ".join(
        f"{o.label[:1].lower()}{o.label[1:]} — {_uk(p)} %"
        for o, p in zip(q.options, percents, strict=True)
    )
    assert prose in rendered["docx_text"]
    table = [[o.label, str(c), _uk(p)] for o, c, p in zip(q.options, counts, percents, strict=True)]
    assert any(t == table for t in _tables(rendered["docx_cells"], len(counts))), (
        f"no DOCX table {table}"
    )


def _tables(rows: list[list[str]], size: int) -> list[list[list[str]]]:
    """Every run of `size` consecutive table rows (the option rows of one question)."""
    return [rows[i : i + size] for i in range(len(rows) - size + 1)]


def test_the_parents_never_receiving_the_criteria_is_stated(
    report: Report, rendered: dict[str, Any]
) -> None:
    """The seed's key finding (23 of 80 parents: "Ніколи") in every format, as a true number."""
    q1 = _question(report, PARENTS, "q1")
    assert (q1.options[3].label, q1.options[3].count, q1.options[3].percent) == (
        "Ніколи",
        23,
        28.8,
    )
    assert (q1.options[2].count, q1.options[2].percent) == (4, 5.0)  # "Іноді": 4 of 80, shown
    assert (
        "так, завжди — 36,3 %; переважно так — 30 %; іноді — 5 %; ніколи — 28,8 %"
        in rendered["docx_text"]
    )
    assert "<5" not in rendered["docx_text"] and "менше 5" not in rendered["docx_text"]
    cells = {c for row in rendered["docx_cells"] for c in row}
    assert "<5" not in cells
    assert not any("<5" in str(v) for rows in rendered["xlsx"].values() for r in rows for v in r)
    assert "<5" not in json.dumps(rendered["json"])


def test_respondents_per_survey(report: Report) -> None:
    assert [(s.id, s.respondents) for s in report.surveys] == [
        (TEACHERS, 31),
        (STUDENTS, 71),
        (PARENTS, 80),
    ]
    # class teachers answer as teachers
    assert report.surveys[0].respondents_by_role == {"teacher": 31}


def test_multi_choice_percents_may_sum_past_100(report: Report) -> None:
    q = _question(report, TEACHERS, "q3")
    assert [o.count for o in q.options] == [19, 13, 22, 25]
    assert [o.percent for o in q.options][:2] == [61.3, 41.9]
    assert sum(o.percent or 0 for o in q.options) > 100


def test_the_key_gap_is_criteria_understanding(report: Report) -> None:
    top = report.ranked_gaps()[0]
    assert top.construct == "criteria_understanding"
    assert top.positive == {"teacher": 100.0, "student": 59.2, "parent": 65.0}
    assert top.max_gap_pp == 40.8
    assert (top.high, top.low) == ("teacher", "student")


def test_gaps_are_ranked(report: Report) -> None:
    ranked = [(g.construct, g.max_gap_pp) for g in report.ranked_gaps()]
    assert ranked == [
        ("criteria_understanding", 40.8),
        ("criteria_informed", 37.9),
        ("fairness", 24.1),
        ("outcomes", 14.2),
        ("confidence", 4.8),
    ]
    # asked of students only: a share, no gap
    self_assessment = next(g for g in report.gaps if g.construct == "self_assessment")
    assert self_assessment.max_gap_pp is None
    assert self_assessment.positive["student"] == 35.2


def test_the_directors_summary(report: Report) -> None:
    text = render(report, "text")
    assert isinstance(text, str)
    assert len(text) < 3500
    assert "Анкета для вчителів (2024-2025, імпорт з Google Forms): 31 відповідь" in text
    assert "71 відповідь" in text
    assert "80 відповідей" in text
    assert "1. Розуміння критеріїв оцінювання: 40,8 в. п." in text
    assert "вчителі 100 % · батьки 65 % · учні 59,2 %" in text
    assert "2. Інформування про критерії оцінювання: 37,9 в. п." in text
    assert "3. Справедливість і задоволеність оцінюванням: 24,1 в. п." in text
    assert "4. " not in text  # three gaps only


def test_the_directors_summary_states_the_key_gap_numbers(report: Report) -> None:
    text = str(render(report, "text"))
    # teachers 25+6 of 31, parents (23+29) of 80, students (18+24) of 71
    assert "вчителі 100 % · батьки 65 % · учні 59,2 %" in text
    assert "40,8 в. п." in text
    assert "приховано" not in text.split("Групи (клас і роль)")[0]  # nothing was hidden


def test_json_shape(report: Report) -> None:
    data = json.loads(str(render(report, "json")))
    assert set(data) >= {"surveys", "gaps", "response_rates", "trend"}
    survey = data["surveys"][0]
    assert set(survey) >= {"id", "wave", "respondents", "questions"}
    assert (survey["id"], survey["wave"], survey["respondents"]) == (TEACHERS, "2024-2025", 31)
    q7 = next(q for q in survey["questions"] if q["id"] == "q7")
    assert set(q7) >= {"id", "number", "title", "kind", "answered", "options"}
    assert (q7["number"], q7["kind"], q7["answered"]) == (7, "single", 31)
    assert q7["options"][0] == {"label": "У повній мірі", "count": 25, "percent": 80.6}
    assert survey["hidden_groups"] == [] and survey["suppressed"] is False
    gap = data["gaps"][0]
    assert gap["construct"] == "criteria_understanding"
    assert gap["positive"] == {"teacher": 100.0, "student": 59.2, "parent": 65.0}
    assert gap["max_gap_pp"] == 40.8
    rates = {(r["survey"], r["role"]): r for r in data["response_rates"]}
    assert rates[(PARENTS, "parent")]["rate"] is None
    assert rates[(PARENTS, "parent")]["note"] == "import"


def test_with_the_default_minimum_every_cell_of_a_shown_group_is_shown(report: Report) -> None:
    data = json.loads(str(render(report, "json")))
    parents = next(s for s in data["surveys"] if s["id"] == PARENTS)
    q1 = next(q for q in parents["questions"] if q["id"] == "q1")
    assert [o["count"] for o in q1["options"]] == [29, 24, 4, 23]
    assert [o["percent"] for o in q1["options"]] == [36.3, 30.0, 5.0, 28.8]
    assert q1["positive_percent"] == 66.3
    teachers = data["surveys"][0]
    q4 = next(q for q in teachers["questions"] if q["id"] == "q4")
    assert [o["count"] for o in q4["options"]] == [20, 16, 3, 4]  # small counts, large group
    q7 = next(q for q in teachers["questions"] if q["id"] == "q7")
    assert [o["count"] for o in q7["options"]] == [25, 6, 0, 0]  # zeros too


def test_free_texts_need_ten_writers_and_are_grouped(report: Report) -> None:
    q8 = _question(report, PARENTS, "q8")
    assert q8.answered == 12
    assert sum(g.count for g in q8.texts) == 12
    assert len(q8.texts) == 11  # "Все влаштовує" twice, once with its count
    assert (q8.texts[0].text, q8.texts[0].count) == ("Все влаштовує", 2)
    rest = [g.text for g in q8.texts[1:]]
    assert "Більше пояснювати критерії" in rest
    # alphabetical (Ukrainian order): says nothing about who wrote first
    assert rest[:4] == [
        "Більше пояснювати критерії",
        "Більше розуміти учнів",
        "Дякуємо вчителям",
        "Індивідуальний підхід до кожного учня",
    ]


def test_class_filter_narrows_and_hides_texts(db: Database, settings: Settings) -> None:
    seed_school(db)
    report = build_report(db, options(settings), [PARENTS], class_name="7а")
    assert report.class_name == "7-А"
    assert report.surveys[0].respondents == 16
    q8 = next(q for q in report.surveys[0].questions if q.id == "q8")
    # seven of the twelve texts come from 7-А: fewer than ten, so none is quoted
    assert q8.answered == 7
    assert q8.texts == ()
    assert q8.texts_hidden == 7


def test_role_filter_keeps_that_roles_survey(db: Database, settings: Settings) -> None:
    seed_school(db)
    report = build_report(db, options(settings), role="student")
    assert [s.id for s in report.surveys] == [STUDENTS]
    assert report.ranked_gaps() == []
