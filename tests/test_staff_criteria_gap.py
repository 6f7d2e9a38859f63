"""The measure no other tool has: per class, families who confirmed the current criteria (✅)
beside the class's "understanding" score, sorted by the gap, with the small-group rule, in the
chat report, JSON, XLSX and DOCX."""

from __future__ import annotations

import io
import json
from datetime import datetime

import pytest

from analytics import AnalyticsOptions, build_report, render
from bot.criteria.service import publish_notice
from bot.settings import Settings
from storage.db import Database
from storage.repositories import criteria
from tests.criteria_fixtures import CriteriaSchool
from tests.staff_fixtures import build_staff_school, open_survey, person_id, submit


@pytest.fixture
def cs(db: Database, settings: Settings, now: datetime) -> CriteriaSchool:
    school = build_staff_school(db, settings, now)  # min_group_size 5
    big = [school.join(f"a{i}", "7-А", "parent") for i in range(6)]
    small = [school.join(f"b{i}", "7-Б", "parent") for i in range(2)]
    with db.write() as session:
        result = publish_notice(
            session,
            class_ids=[school.class_ids["7-А"], school.class_ids["7-Б"]],
            subject="Математика",
            audience="parents",
            text="Контрольна: 12 балів — усе правильно.",
            file=None,
            author_id=None,
            now=now,
            settings=settings,
        )
        notice_a = next(n.notice_id for n in result.notices)
        for user in big[:5]:  # five of six confirm ✅
            criteria.acknowledge(session, notice_a, person_id(school, user.user_id), "parent", now)
    wave = open_survey(school, "assessment-parents", ["7-А", "7-Б"])
    for i, user in enumerate(big):  # two of six say they understand (q5, first option)
        submit(school, wave, user.user_id, "7-А", option=0 if i < 2 else 2)
    for user in small:
        submit(school, wave, user.user_id, "7-Б")
    return school


def report(cs: CriteriaSchool):  # type: ignore[no-untyped-def]
    options = AnalyticsOptions(cs.settings.school_name, cs.settings.tz, 5)
    return build_report(cs.db, options, ["assessment-parents"], now=cs.now)


def test_criteria_vs_understanding_in_every_format(cs: CriteriaSchool) -> None:
    built = report(cs)
    data = json.loads(str(render(built, "json")))["criteria_vs_understanding"]
    assert data == [
        {
            "class_name": "7-А",
            "families": 6,
            "confirmed": 5,
            "confirmed_percent": 83.3,
            "understanding_answered": 6,
            "understanding_percent": 33.3,
            "gap_pp": 50.0,
            "confirmed_hidden": False,
        },
        {
            "class_name": "7-Б",  # two families: both sides hidden, no gap
            "families": None,
            "confirmed": None,
            "confirmed_percent": None,
            "understanding_answered": 0,
            "understanding_percent": None,
            "gap_pp": None,
            "confirmed_hidden": True,
        },
    ]
    text = str(render(built, "text"))
    assert "• 7-А: ✅ 83,3 % (5 з 6) / розуміють 33,3 %; розрив 50 в. п." in text
    assert "• 7-Б: ✅ приховано (група менша за 5 осіб) / розуміють —" in text

    from docx import Document  # here, not at collection (openpyxl loads numpy)
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(bytes(render(built, "xlsx"))))["Критерії і розуміння"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert rows[0] == ["7-А", 6, 5, 0.833, 0.333, 50.0]
    hidden = "приховано: група менша за 5 осіб"
    assert rows[1] == ["7-Б", hidden, hidden, None, None, None]

    doc = Document(io.BytesIO(bytes(render(built, "docx"))))
    cells = [[c.text for c in row.cells] for t in doc.tables for row in t.rows]
    assert ["7-А", "5 з 6", "83,3 %", "33,3 %", "50 в. п."] in cells


def test_the_chat_report_shows_it(cs: CriteriaSchool) -> None:
    director = cs.join("director", None, "director")
    director.send("/report")
    director.press("остання")
    said = "\n".join(r.text for r in director.inbox)
    assert "Критерії оцінювання: підтвердили ✅ / розуміють" in said
    assert "7-А: ✅ 83,3 % (5 з 6) / розуміють 33,3 %; розрив 50 в. п." in said
