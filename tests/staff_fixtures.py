"""A school for the staff tests: the criteria school (memory channel, outbox drained into it),
with the questionnaires stored, waves opened and answers submitted."""

from __future__ import annotations

from datetime import datetime

from bot.settings import Settings
from bot.surveys.admin import create_wave, open_wave
from storage.db import Database
from storage.repositories import people, responses, surveys, waves
from tests.criteria_fixtures import CriteriaSchool, build
from tests.school import store_bundled_surveys


def build_staff_school(db: Database, settings: Settings, now: datetime) -> CriteriaSchool:
    cs = build(db, settings, now)
    with db.write() as session:
        store_bundled_surveys(session)
    return cs


def open_survey(cs: CriteriaSchool, slug: str, classes: list[str]) -> int:
    with cs.db.write() as session:
        wave = create_wave(session, slug, [cs.class_ids[c] for c in classes], cs.now)
        open_wave(session, wave.id, cs.now)
    return wave.id


def person_id(cs: CriteriaSchool, user_id: str) -> int:
    with cs.db.read() as session:
        person = people.person_for_identity(session, cs.channel.name, user_id)
    assert person is not None
    return person.id


def submit(
    cs: CriteriaSchool, wave_id: int, user_id: str, class_name: str, option: int = 0
) -> None:
    """The person submits the wave's survey: every single-choice question with `option`."""
    pid = person_id(cs, user_id)
    with cs.db.write() as session:
        wave = waves.get_wave(session, wave_id)
        assert wave is not None
        definition = surveys.survey_def(session, wave.survey_id)
        answers = {q.id: option for q in definition.questions if q.kind == "single"}
        role = next(r for r in wave.audience)
        assert responses.submit(
            session,
            survey_id=wave.survey_id,
            wave_id=wave_id,
            person_id=pid,
            class_id=cs.class_ids[class_name],
            role=role,
            answers=answers,
        )
