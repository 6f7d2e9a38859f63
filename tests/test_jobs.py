"""Scheduled jobs as plain functions with an injected `now`: waves, reminders, reports."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.engine.buttons import ButtonKind, encode
from bot.reports.messages import split_text
from bot.schedule import jobs
from bot.settings import Settings
from storage.db import Database
from storage.repositories import reminders, waves
from tests.jobs_fixtures import STUDENTS, JobSchool, build_job_school

DAY = timedelta(days=1)


@pytest.fixture
def school(db: Database, settings: Settings) -> JobSchool:
    return build_job_school(db, settings)


def _status(school: JobSchool, wave_id: int) -> str:
    with school.db.read() as session:
        wave = waves.get_wave(session, wave_id)
        assert wave is not None
        return wave.status


def _students(school: JobSchool, n: int, class_name: str = "7-А") -> list[int]:
    return [
        school.person(f"Student {i}", "student", class_name, ("telegram", str(2000 + i)))
        for i in range(n)
    ]


# ---------------------------------------------------------------- open / close
def test_a_scheduled_wave_opens_at_its_time_and_the_invitations_are_queued(
    school: JobSchool, settings: Settings, now: datetime
) -> None:
    student = school.person("Оля", "student", "7-А", ("telegram", "501"))
    wave_id = school.wave(STUDENTS, now, opens_at=now + timedelta(hours=2), open_now=False)

    assert jobs.open_due_waves(school.db, settings, now + timedelta(hours=1)) == 0
    assert _status(school, wave_id) == "scheduled"
    assert school.outbox() == []

    assert jobs.open_due_waves(school.db, settings, now + timedelta(hours=2)) == 1
    assert _status(school, wave_id) == "open"
    [row] = school.outbox()
    assert (row.channel, row.recipient, row.person_id, row.kind) == (
        "telegram",
        "501",
        student,
        "invitation",
    )
    assert "Анкета для здобувачів освіти" in row.reply.text
    assert row.reply.flat_buttons()[0].payload == encode(ButtonKind.START_SURVEY, wave_id)
    # The next minute's run finds nothing to do.
    assert jobs.open_due_waves(school.db, settings, now + timedelta(hours=2, minutes=1)) == 0
    assert len(school.outbox()) == 1


def test_a_wave_whose_whole_window_passed_while_down_is_closed_without_invitations(
    school: JobSchool, settings: Settings, now: datetime
) -> None:
    school.person("Оля", "student", "7-А", ("telegram", "501"))
    wave_id = school.wave(
        STUDENTS, now, opens_at=now + DAY, closes_at=now + 2 * DAY, open_now=False
    )
    assert jobs.open_and_close_waves(school.db, settings, now + 3 * DAY) == 0
    assert _status(school, wave_id) == "closed"
    assert school.outbox() == []


def test_a_wave_past_its_closing_time_is_closed_and_the_director_gets_the_final_report(
    school: JobSchool, settings: Settings, now: datetime
) -> None:
    director = school.person("Директорка", "director", None, ("telegram", "9001"))
    students = _students(school, 6)
    wave_id = school.wave(STUDENTS, now, closes_at=now + 3 * DAY)
    for i, student in enumerate(students[:5]):
        school.complete(wave_id, student, answer=i % 2)

    assert jobs.close_due_waves(school.db, settings, now + 2 * DAY) == 0
    assert _status(school, wave_id) == "open"

    closed_at = now + 3 * DAY
    queued = jobs.close_due_waves(school.db, settings, closed_at)
    assert _status(school, wave_id) == "closed"
    rows = [r for r in school.outbox("report") if r.person_id == director]
    assert queued == len(rows) == 4  # summary, chart, table, document
    summary, *files = rows
    assert summary.reply.text.startswith(
        "📊 Опитування «Анкета для здобувачів освіти» (хвиля 2026-03) закрито."
    )
    assert "Анкета для здобувачів освіти (2026-03): 5 відповідей" in summary.reply.text
    assert "учні: 5 з 6 осіб" in summary.reply.text
    assert not summary.urgent  # quiet hours hold a report of a wave closing at night
    names = [r.reply.file.name for r in files if r.reply.file]
    assert names == [
        "final-assessment-students-2026-03.png",
        "final-assessment-students-2026-03.xlsx",
        "final-assessment-students-2026-03.docx",
    ]
    assert [r.reply.text for r in files] == [
        "Діаграма",
        "Таблиця з усіма цифрами (XLSX)",
        "Довідка (DOCX)",
    ]
    day_dir = settings.data_dir / "reports" / "2026-03-05"
    for row in files:
        assert row.reply.file is not None
        path = Path(row.reply.file.path)
        assert path.is_absolute() and path.parent == day_dir.resolve()
        assert path.stat().st_size > 1000
    # Closing again (the next minute's run) queues nothing.
    assert jobs.close_due_waves(school.db, settings, closed_at + timedelta(minutes=1)) == 0


# ---------------------------------------------------------------- reminders
def _reminders(school: JobSchool) -> list[tuple[str, str]]:
    return [(r.channel, r.recipient) for r in school.outbox("reminder")]


def test_reminders_come_after_two_days_at_most_twice_and_never_to_who_completed(
    school: JobSchool, settings: Settings, now: datetime
) -> None:
    waiting = school.person("Оля", "student", "7-А", ("telegram", "501"), ("viber", "v-501"))
    done = school.person("Петро", "student", "7-А", ("telegram", "502"))
    school.person("Учитель", "teacher", "7-А", ("telegram", "503"))  # not the audience
    school.person("Інший", "student", "8-Б", ("telegram", "504"))
    wave_id = school.wave(STUDENTS, now, closes_at=now + 30 * DAY)
    school.complete(wave_id, done)
    run = jobs.queue_survey_reminders

    assert run(school.db, settings, now + DAY) == 0  # too early
    assert run(school.db, settings, now + 2 * DAY - timedelta(minutes=1)) == 0

    assert run(school.db, settings, now + 2 * DAY) == 3
    assert sorted(_reminders(school)) == [
        ("telegram", "501"),
        ("telegram", "504"),
        ("viber", "v-501"),
    ]
    row = school.outbox("reminder")[0]
    assert row.reply.text == (
        "⏰ Нагадування: опитування «Анкета для здобувачів освіти» ще чекає на вашу "
        "відповідь (до 01.04.2026 13:00)."
    )
    assert row.reply.flat_buttons()[0].payload == encode(ButtonKind.START_SURVEY, wave_id)
    assert (row.kind, row.urgent) == ("reminder", False)

    assert run(school.db, settings, now + 3 * DAY) == 0  # the last one was a day ago
    # The second and last: Telegram only, Viber (paid outside a session) gets one per wave.
    assert run(school.db, settings, now + 4 * DAY) == 2
    assert run(school.db, settings, now + 10 * DAY) == 0
    with school.db.read() as session:
        states = reminders.reminder_states(session, wave_id)
    assert states[waiting].count == 2
    assert done not in states


def test_no_reminder_to_an_unreachable_account(
    school: JobSchool, settings: Settings, now: datetime
) -> None:
    school.person("Оля", "student", "7-А", ("telegram", "501"), ("viber", "v-501"))
    school.wave(STUDENTS, now)
    school.unreachable("viber", "v-501", now)
    assert jobs.queue_survey_reminders(school.db, settings, now + 2 * DAY) == 1
    assert _reminders(school) == [("telegram", "501")]


def test_no_reminders_are_queued_in_quiet_hours(
    school: JobSchool, settings: Settings, now: datetime
) -> None:
    school.person("Оля", "student", "7-А", ("telegram", "501"))
    school.wave(STUDENTS, now)
    quiet = settings.model_copy(update={"quiet_hours": "21:00-08:00"})
    night = datetime.fromisoformat("2026-03-04T23:30:00+02:00")  # Kyiv, two days later
    assert jobs.queue_survey_reminders(school.db, quiet, night) == 0
    assert school.outbox("reminder") == []
    morning = datetime.fromisoformat("2026-03-05T08:00:00+02:00")
    assert jobs.queue_survey_reminders(school.db, quiet, morning) == 1


def test_reminders_can_be_switched_off(
    school: JobSchool, settings: Settings, now: datetime
) -> None:
    school.person("Оля", "student", "7-А", ("telegram", "501"))
    school.wave(STUDENTS, now)
    off = settings.model_copy(update={"survey_reminder_max": 0})
    assert jobs.queue_survey_reminders(school.db, off, now + 5 * DAY) == 0


# ---------------------------------------------------------------- weekly digest
def test_the_digest_reaches_every_director_and_admin_account_once_a_day(
    school: JobSchool, settings: Settings, now: datetime
) -> None:
    director = school.person("Директорка", "director", None, ("telegram", "9001"))
    admin = school.person("Завуч", "admin", None, ("viber", "v-9002"))
    school.person("Вчитель", "teacher", "7-А", ("telegram", "9003"))
    wave_id = school.wave(STUDENTS, now)
    for i, student in enumerate(_students(school, 5)):
        school.complete(wave_id, student, answer=i % 3)

    queued = jobs.send_weekly_digest(school.db, settings, now)
    rows = school.outbox("digest")
    assert queued == len(rows) == 5
    telegram = [r for r in rows if r.person_id == director]
    viber = [r for r in rows if r.person_id == admin]
    assert all(r.urgent for r in rows)
    # Telegram: the summary, then the chart, the table and the document as files.
    assert telegram[0].reply.text.startswith("📊 Щотижневий звіт опитувань, 02.03.2026")
    assert "Анкета для здобувачів освіти" in telegram[0].reply.text
    assert [r.reply.file.mime for r in telegram[1:] if r.reply.file] == [
        "image/png",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ]
    # Viber cannot upload our files: the summary says where they are instead.
    [only] = viber
    assert only.reply.file is None
    assert "надсилаємо в Telegram" in only.reply.text
    assert only.reply.text.startswith(telegram[0].reply.text)

    # The same day again (a restart, `schedule run-now`): nothing new.
    assert jobs.send_weekly_digest(school.db, settings, now + timedelta(hours=3)) == 0
    assert len(school.outbox("digest")) == 5
    # A week later: a new digest.
    assert jobs.send_weekly_digest(school.db, settings, now + 7 * DAY) == 5


def test_no_digest_before_any_wave(school: JobSchool, settings: Settings, now: datetime) -> None:
    school.person("Директорка", "director", None, ("telegram", "9001"))
    assert jobs.send_weekly_digest(school.db, settings, now) == 0
    assert school.outbox() == []


def test_a_digest_without_answers_is_a_short_text(
    school: JobSchool, settings: Settings, now: datetime
) -> None:
    school.person("Директорка", "director", None, ("telegram", "9001"))
    school.wave(STUDENTS, now)
    assert jobs.send_weekly_digest(school.db, settings, now) == 1
    [row] = school.outbox("digest")
    assert row.reply.text.endswith("Відповідей ще немає.")
    assert row.reply.file is None


def test_long_summaries_are_split_at_line_ends() -> None:
    text = "\n".join(f"рядок {i:04d} " + "x" * 80 for i in range(100))
    pieces = split_text(text, limit=4000)
    assert len(pieces) == 3
    assert all(len(p) <= 4000 for p in pieces)
    assert "\n".join(pieces) == text
    assert split_text("y" * 9000, limit=4000) == ["y" * 4000, "y" * 4000, "y" * 1000]
    assert split_text("") == [""]


# ---------------------------------------------------------------- criteria notices
def test_the_criteria_reminder_job_runs_the_criteria_feature(
    school: JobSchool, settings: Settings, now: datetime
) -> None:
    assert jobs.queue_criteria_reminders_job(school.db, settings, now) == 0


def test_housekeeping_forgets_old_finished_rows_only(
    db: Database, settings: Settings, now: datetime
) -> None:
    from bot.schedule.jobs import housekeeping
    from storage.repositories.outbox import NewMessage, enqueue_many
    from tests.outbox_rows import outbox_rows

    with db.write() as session:
        old = now - timedelta(days=91)
        enqueue_many(session, [NewMessage("telegram", "1", {"reply": {"text": "a"}}, "k1")], old)
        enqueue_many(session, [NewMessage("telegram", "2", {"reply": {"text": "b"}}, "k2")], old)
        enqueue_many(session, [NewMessage("telegram", "3", {"reply": {"text": "c"}}, "k3")], now)
    with db.write() as session:
        from sqlalchemy import update

        from storage.models import OutboxMessage

        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.recipient.in_(["1", "3"]))
            .values(status="sent")
        )
    assert housekeeping(db, settings, now) == 0
    # the old sent row goes; an old pending one and a new sent one stay
    assert sorted(r.recipient for r in outbox_rows(db)) == ["2", "3"]
