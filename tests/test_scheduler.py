"""The APScheduler wiring: job store in the database, coalesced runs after downtime, the CLI."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from click.testing import CliRunner

from bot.cli import main
from bot.cli.app import AppContext
from bot.schedule.cron import crontab_trigger
from bot.schedule.scheduler import (
    JOBS,
    build_scheduler,
    describe_jobs,
    start_scheduler,
    stop_scheduler,
    stored_jobs,
    sync_jobs,
)
from bot.settings import Settings
from storage.db import Database
from storage.migrate import alembic_config
from tests.jobs_fixtures import STUDENTS, JobSchool, build_job_school


@pytest.fixture
def school(db: Database, settings: Settings) -> JobSchool:
    return build_job_school(db, settings)


def _app(settings: Settings, now: datetime) -> AppContext:
    return AppContext(settings=settings, clock=lambda: now)


async def _store_digest_due_at(app: AppContext, when: datetime) -> None:
    """What a bot that stopped leaves behind: the digest job stored, due at `when`."""
    earlier = build_scheduler(app)
    earlier.start(paused=True)
    sync_jobs(earlier, app.settings)
    earlier.modify_job("weekly-digest", next_run_time=when)
    await stop_scheduler(earlier)


def test_the_digest_fires_once_after_a_night_of_downtime(
    school: JobSchool, settings: Settings, now: datetime
) -> None:
    director = school.person("Директорка", "director", None, ("telegram", "9001"))
    school.wave(STUDENTS, now)
    # An hourly digest and seven hours of downtime: seven missed runs.
    hourly = settings.model_copy(update={"digest_cron": "0 * * * *"})
    app = _app(hourly, now)

    async def scenario() -> tuple[list[JobExecutionEvent], datetime | None]:
        await _store_digest_due_at(app, datetime.now(UTC) - timedelta(hours=7, minutes=1))
        events: list[JobExecutionEvent] = []
        ran = asyncio.Event()
        wakes: list[int] = []

        def listen(event: JobExecutionEvent) -> None:
            if event.job_id == "weekly-digest":
                events.append(event)
                ran.set()

        scheduler = await start_scheduler(app, wake=lambda: wakes.append(1))
        # Added before the loop runs the scheduler's first wakeup.
        scheduler.add_listener(listen, EVENT_JOB_EXECUTED | EVENT_JOB_MISSED | EVENT_JOB_ERROR)
        await asyncio.wait_for(ran.wait(), timeout=10)
        await asyncio.sleep(0.3)  # room for a second run, which must not come
        next_run = scheduler.get_job("weekly-digest").next_run_time
        await stop_scheduler(scheduler)
        assert wakes == [1]  # the outbox sender was woken for the queued digest
        return events, next_run

    events, next_run = asyncio.run(scenario())

    assert [e.code for e in events] == [EVENT_JOB_EXECUTED]
    assert events[0].retval == 1
    rows = school.outbox("digest")
    assert [(r.recipient, r.person_id) for r in rows] == [("9001", director)]
    assert rows[0].reply.text.startswith("📊 Щотижневий звіт опитувань, 02.03.2026")
    assert next_run is not None and next_run > datetime.now(UTC)


def test_an_unchanged_job_keeps_its_stored_time_and_a_changed_one_is_rescheduled(
    settings: Settings, now: datetime
) -> None:
    app = _app(settings, now)
    overdue = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)

    async def next_digest(app: AppContext) -> datetime | None:
        scheduler = build_scheduler(app)
        scheduler.start(paused=True)
        sync_jobs(scheduler, app.settings)
        job = scheduler.get_job("weekly-digest")
        await stop_scheduler(scheduler)
        return job.next_run_time if job else None

    async def scenario() -> tuple[datetime | None, datetime | None]:
        await _store_digest_due_at(app, overdue)
        kept = await next_digest(app)
        friday = _app(settings.model_copy(update={"digest_cron": "30 15 * * fri"}), now)
        return kept, await next_digest(friday)

    kept, changed = asyncio.run(scenario())
    assert kept == overdue
    assert changed is not None and changed > datetime.now(UTC)
    local = changed.astimezone(settings.tz)
    assert (local.weekday(), local.hour, local.minute) == (4, 15, 30)


def test_jobs_are_stored_in_the_project_database_in_its_time_zone(
    db: Database, settings: Settings, now: datetime
) -> None:
    rows = asyncio.run(stored_jobs(_app(settings, now)))
    assert [r.id for r in rows] == list(JOBS)
    digest = rows[0]
    assert digest.next_run is not None
    assert str(digest.next_run.tzinfo) == "Europe/Kyiv"
    local = digest.next_run
    assert (local.weekday(), local.hour, local.minute) == (0, 8, 0)  # Monday 08:00
    with db.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT id FROM apscheduler_jobs ORDER BY id").all()
    assert sorted(r[0] for r in stored) == sorted(JOBS)


def test_alembic_autogenerate_ignores_the_scheduler_table(
    settings: Settings, now: datetime
) -> None:
    asyncio.run(stored_jobs(_app(settings, now)))  # creates apscheduler_jobs
    command.check(alembic_config(settings.database_url))  # raises if it sees a difference


def test_start_and_stop_on_the_running_loop(settings: Settings, now: datetime) -> None:
    async def scenario() -> list[str]:
        scheduler = await start_scheduler(_app(settings, now))
        assert scheduler.running and str(scheduler.timezone) == "Europe/Kyiv"
        ids = [row.id for row in describe_jobs(scheduler)]
        await stop_scheduler(scheduler)
        assert not scheduler.running
        return ids

    assert asyncio.run(scenario()) == list(JOBS)


def test_classpulse_run_starts_the_scheduler_when_a_messenger_is_configured(
    db: Database, settings: Settings, now: datetime
) -> None:
    from bot.app import COMPONENTS, scheduler_component
    from bot.conversation.service import ChatService
    from bot.runtime import Runtime

    def runtime(settings: Settings) -> Runtime:
        return Runtime(_app(settings, now), settings, db, lambda: now, ChatService(db, settings))

    assert scheduler_component in COMPONENTS
    assert scheduler_component(runtime(settings)) is None  # no messenger: nothing to deliver
    component = scheduler_component(
        runtime(settings.model_copy(update={"viber_auth_token": "not-a-real-token"}))
    )
    assert component is not None and component.transports == {} and component.routes == []

    async def scenario() -> list[str]:
        await component.start()
        scheduler = component.scheduler  # type: ignore[attr-defined]
        ids = [job.id for job in scheduler.get_jobs()]
        await component.stop()
        assert not scheduler.running
        return ids

    assert sorted(asyncio.run(scenario())) == sorted(JOBS)


@pytest.mark.parametrize(
    ("cron", "weekdays"),
    [
        ("0 8 * * mon", "mon"),
        ("0 8 * * 1", "mon"),  # crontab numbering (APScheduler 3 alone would say Tuesday)
        ("0 8 * * 0", "sun"),
        ("0 8 * * 7", "sun"),
        ("0 8 * * 1-5", "mon,tue,wed,thu,fri"),
        ("0 8 * * 5-7", "fri,sat,sun"),
        ("0 8 * * */3", "wed,sat,sun"),
        ("0 8 * * sat-sun", "sat,sun"),
        ("0 8 * * *", "*"),
    ],
)
def test_digest_cron_is_read_as_crontab(cron: str, weekdays: str, settings: Settings) -> None:
    trigger = crontab_trigger(cron, settings)
    assert f"day_of_week='{weekdays}'" in str(trigger)


def test_a_wrong_digest_cron_is_one_clear_line(settings: Settings, now: datetime) -> None:
    wrong = settings.model_copy(update={"digest_cron": "0 25 * * mon"})
    result = CliRunner().invoke(main, ["schedule", "list"], obj=_app(wrong, now))
    assert result.exit_code == 1
    assert result.output.startswith("error: DIGEST_CRON '0 25 * * mon' is not a cron expression")


# ---------------------------------------------------------------- CLI
def test_schedule_list_shows_the_jobs_and_their_next_runs(
    settings: Settings, now: datetime
) -> None:
    result = CliRunner().invoke(main, ["schedule", "list"], obj=_app(settings, now))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["JOB", "NEXT", "RUN", "(Europe/Kyiv)", "SCHEDULE"]
    digest = next(line for line in lines if line.startswith("weekly-digest"))
    assert " 08:00 Mon " in digest and digest.endswith(" щопонеділка о 08:00")
    assert "cron[" not in result.output
    for job_id in JOBS:
        assert any(line.startswith(job_id) for line in lines), job_id
    assert "digest to directors and admins" in result.output


def test_schedule_run_now_runs_one_job(
    school: JobSchool, settings: Settings, now: datetime
) -> None:
    school.person("Директорка", "director", None, ("telegram", "9001"))
    school.wave(STUDENTS, now)
    runner = CliRunner()
    app = _app(settings, now)
    result = runner.invoke(main, ["schedule", "run-now", "weekly-digest"], obj=app)
    assert result.exit_code == 0, result.output
    assert result.output == "weekly-digest: 1 message queued\n"
    again = runner.invoke(main, ["schedule", "run-now", "weekly-digest"], obj=app)
    assert again.output == "weekly-digest: 0 messages queued\n"
    assert len(school.outbox("digest")) == 1
    wrong = runner.invoke(main, ["schedule", "run-now", "everything"], obj=app)
    assert wrong.exit_code == 2 and "weekly-digest" in wrong.output


def test_two_processes_on_one_database_run_one_scheduler(
    db: Database, settings: Settings, now: datetime
) -> None:
    from bot.conversation.service import ChatService
    from bot.runtime import Runtime
    from bot.schedule.component import SchedulerComponent

    clock = [now]
    configured = settings.model_copy(update={"viber_auth_token": "not-a-real-token"})

    def component(holder: str) -> SchedulerComponent:
        rt = Runtime(
            _app(configured, now), configured, db, lambda: clock[0], ChatService(db, configured)
        )
        made = SchedulerComponent(rt, renew_seconds=3600)
        made.lease.holder = holder
        return made

    async def scenario() -> None:
        one, two = component("one"), component("two")
        await one.start()
        await two.start()
        assert one.scheduler is not None and one.scheduler.running
        assert two.scheduler is None  # the jobs run in one process only
        clock[0] = now + timedelta(seconds=25)  # "one" died 25 s ago without renewing
        await two._step()
        assert two.scheduler is not None and two.scheduler.running
        await one._step()  # "one" comes back: it sees the lease taken and stops its jobs
        assert one.scheduler is None
        await one.stop()
        await two.stop()

    asyncio.run(scenario())
