"""A closed wave's final report is owed until it is queued: a crash or a failed render after the
close loses no report, the leaders hear of a failure once, and nothing is queued twice."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.schedule import jobs
from bot.settings import Settings
from bot.surveys.admin import close_wave
from storage.db import Database
from storage.repositories import waves
from tests.jobs_fixtures import STUDENTS, JobSchool, build_job_school

DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)
FAILED = (
    "⚠️ Опитування «Анкета для здобувачів освіти» (хвиля 2026-03) закрито, але підсумковий "
    "звіт не вдалося підготувати. Спробую ще раз за кілька хвилин; звіт також можна отримати "
    "командою /report."
)
INTRO = "📊 Опитування «Анкета для здобувачів освіти» (хвиля 2026-03) закрито."


@pytest.fixture
def school(db: Database, settings: Settings) -> JobSchool:
    return build_job_school(db, settings)


def _wave_with_answers(school: JobSchool, now: datetime) -> tuple[int, int]:
    """(director, wave closing in three days, five of six students answered)."""
    director = school.person("Директорка", "director", None, ("telegram", "9001"))
    students = [
        school.person(f"Student {i}", "student", "7-А", ("telegram", str(2000 + i)))
        for i in range(6)
    ]
    wave_id = school.wave(STUDENTS, now, closes_at=now + 3 * DAY)
    for i, student in enumerate(students[:5]):
        school.complete(wave_id, student, answer=i % 2)
    return director, wave_id


def _director_texts(school: JobSchool, director: int) -> list[str]:
    return [r.reply.text for r in school.outbox("report") if r.person_id == director]


def _owed(school: JobSchool, now: datetime) -> list[int]:
    with school.db.read() as session:
        return waves.final_reports_due(session, now + 365 * DAY)


def test_a_failed_final_report_is_told_once_and_sent_when_it_can_be_made(
    school: JobSchool, settings: Settings, now: datetime
) -> None:
    director, wave_id = _wave_with_answers(school, now)
    reports_dir = settings.data_dir / "reports"
    reports_dir.parent.mkdir(parents=True, exist_ok=True)
    reports_dir.write_text("not a folder")  # the report's files cannot be written
    closed_at = now + 3 * DAY

    assert jobs.close_due_waves(school.db, settings, closed_at) == 1
    assert _director_texts(school, director) == [FAILED]
    assert _owed(school, now) == [wave_id]

    # Still failing at the next try: the leaders are not told again.
    assert jobs.close_due_waves(school.db, settings, closed_at + MINUTE) == 0
    assert jobs.close_due_waves(school.db, settings, closed_at + 5 * MINUTE) == 0
    assert _director_texts(school, director) == [FAILED]

    reports_dir.unlink()  # the fault passes
    # The next try waits as long as the wave has been closed: 5 minutes, then 10.
    assert jobs.close_due_waves(school.db, settings, closed_at + 9 * MINUTE) == 0
    assert jobs.close_due_waves(school.db, settings, closed_at + 10 * MINUTE) == 4
    failed, summary, *files = _director_texts(school, director)
    assert failed == FAILED
    assert summary.startswith(INTRO)
    assert "Анкета для здобувачів освіти (2026-03): 5 відповідей" in summary
    assert files == ["Діаграма", "Таблиця з усіма цифрами (XLSX)", "Довідка (DOCX)"]
    assert _owed(school, now) == []
    assert jobs.close_due_waves(school.db, settings, closed_at + DAY) == 0
    assert len(_director_texts(school, director)) == 5


def test_a_crash_between_the_close_and_its_report_loses_no_report(
    school: JobSchool, settings: Settings, now: datetime
) -> None:
    director, wave_id = _wave_with_answers(school, now)
    closed_at = now + DAY
    # Closed by a director in chat or by the CLI, and the process dies before the report.
    with school.db.write() as session:
        assert close_wave(session, wave_id, closed_at)
    assert _director_texts(school, director) == []

    # The closing run has a grace period to make it itself; then the scheduler takes over.
    assert jobs.close_due_waves(school.db, settings, closed_at + MINUTE) == 0
    assert jobs.close_due_waves(school.db, settings, closed_at + 2 * MINUTE) == 4
    summary, *_ = _director_texts(school, director)
    assert summary.startswith(INTRO)
    assert _owed(school, now) == []
    assert jobs.close_due_waves(school.db, settings, closed_at + 3 * MINUTE) == 0
    assert len(_director_texts(school, director)) == 4


def test_a_wave_that_never_opened_and_an_imported_one_owe_no_report(
    school: JobSchool, settings: Settings, now: datetime
) -> None:
    school.person("Директорка", "director", None, ("telegram", "9001"))
    never = school.wave(STUDENTS, now, opens_at=now + DAY, closes_at=now + 2 * DAY, open_now=False)
    with school.db.write() as session:
        survey_id = waves.get_wave(session, never)
        assert survey_id is not None
        waves.create_wave(
            session, survey_id.survey_id, "2025-03", [], status="closed", source="import"
        )

    assert jobs.open_and_close_waves(school.db, settings, now + 3 * DAY) == 0
    assert jobs.open_and_close_waves(school.db, settings, now + 30 * DAY) == 0
    assert _owed(school, now) == []
    assert school.outbox() == []
