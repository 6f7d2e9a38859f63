"""A multi-choice question's respondents are counted from the first answer row of each response
(no COUNT(DISTINCT)): ticks, an "other" text alone or beside ticks, every scope."""

from __future__ import annotations

import json
from typing import Any

import pytest

from analytics import build_report, render
from bot.settings import Settings
from storage.db import Database
from storage.repositories.imports import NewResponse, bulk_add_responses
from storage.repositories.school import add_classes
from storage.repositories.surveys import sync_survey
from storage.repositories.waves import create_wave
from storage.survey_schema import parse_survey
from tests.analytics_fixtures import options

SURVEY = """
id: sources
title: Джерела
audience: [student, parent]
questions:
  - {id: q1, number: 1, title: 'Звідки?', kind: multi, allow_other: true,
     options: [від вчителя, з дошки, з щоденника]}
  - {id: q2, number: 2, title: 'Чи зрозуміло?', kind: single, options: [Так, Ні]}
"""
# q1 of the six students and the six parents of each class (None: skipped)
ANSWERS: list[Any] = [[0, 1], [{"other": "з чату"}], [2, {"other": "від друзів"}], [1], None, [0]]


@pytest.fixture
def wave(db: Database) -> None:
    survey, problems = parse_survey(SURVEY)
    assert survey is not None, problems
    with db.write() as session:
        stored = sync_survey(session, survey)
        classes = [c.id for c in add_classes(session, "Ліцей", ["7-А", "8-А"])]
        wave = create_wave(session, stored.id, "2025", classes, status="closed", source="import")
        responses = [
            NewResponse(class_id, role, {"q2": 0} | ({"q1": q1} if q1 is not None else {}))
            for class_id in classes
            for role in ("student", "parent")
            for q1 in ANSWERS
        ]
        bulk_add_responses(session, survey_id=stored.id, wave_id=wave.id, responses=responses)


@pytest.mark.parametrize(
    ("class_name", "role", "groups"),
    [(None, None, 4), ("7-А", None, 2), (None, "parent", 2), ("8-А", "student", 1)],
)
def test_multi_choice_respondents_count_each_response_once(
    db: Database,
    settings: Settings,
    wave: None,
    class_name: str | None,
    role: str | None,
    groups: int,
) -> None:
    report = build_report(db, options(settings), ["sources"], class_name=class_name, role=role)
    (survey,) = json.loads(str(render(report, "json")))["surveys"]
    questions = {q["id"]: q for q in survey["questions"]}
    assert survey["respondents"] == 6 * groups
    assert questions["q2"]["answered"] == 6 * groups
    assert questions["q1"]["answered"] == 5 * groups  # one in six skipped it
    assert [o["count"] for o in questions["q1"]["options"]][:3] == [2 * groups, 2 * groups, groups]
