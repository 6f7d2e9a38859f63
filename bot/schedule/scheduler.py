"""The APScheduler of `classpulse run`: digest, wave open/close, reminders (bot/schedule/jobs.py).

Jobs are kept in the project's database (table `apscheduler_jobs`, created by APScheduler's job
store and left out of Alembic's comparison in storage/migrations/env.py). A stored job holds
only a reference to the module-level `run_job` and its job id, a string: no Database or
Settings is ever pickled. `run_job` finds those in the process's `JobContext`, which
`build_scheduler` sets; a process runs one scheduler.

After downtime: `sync_jobs` leaves a job whose definition is unchanged alone, so its stored
next run time stays in the past and the scheduler sees the missed runs. `coalesce` makes them
one run, and the misfire grace time drops a digest that would come too late (6 h) instead of
sending it in the evening. The other jobs look at the database and simply catch up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from bot.schedule import jobs
from bot.schedule.cron import crontab_trigger
from bot.settings import Settings
from bot.staff.reports import finish_pending_reports
from storage.db import Database

if TYPE_CHECKING:
    from bot.context import AppContext

logger = logging.getLogger(__name__)

TABLE = "apscheduler_jobs"
DIGEST_GRACE_SECONDS = 6 * 3600
JobFunction = Callable[[Database, Settings, datetime], int]


@dataclass(frozen=True)
class JobSpec:
    id: str
    title: str
    run: JobFunction
    trigger: Callable[[Settings], BaseTrigger]
    misfire_grace_time: int | None  # None: however late, run once (the job catches up)
    crontab: Callable[[Settings], str]  # the same schedule as a crontab line, for words


def _cron(**fields: str) -> Callable[[Settings], BaseTrigger]:
    return lambda s: CronTrigger(timezone=s.tz, **fields)


def _line(expr: str) -> Callable[[Settings], str]:
    return lambda s: expr


JOBS: dict[str, JobSpec] = {
    spec.id: spec
    for spec in (
        JobSpec(
            "weekly-digest",
            "digest to directors and admins",
            jobs.send_weekly_digest,
            lambda s: crontab_trigger(s.digest_cron, s),
            DIGEST_GRACE_SECONDS,
            lambda s: s.digest_cron,
        ),
        JobSpec(
            "waves-open-close",
            "open and close survey waves at their set times",
            jobs.open_and_close_waves,
            _cron(minute="*"),
            None,
            _line("* * * * *"),
        ),
        JobSpec(
            "survey-reminders",
            "remind who has not completed an open survey",
            jobs.queue_survey_reminders,
            _cron(minute="5"),
            None,
            _line("5 * * * *"),
        ),
        JobSpec(
            "criteria-reminders",
            "remind who has not acknowledged a criteria notice",
            jobs.queue_criteria_reminders_job,
            _cron(minute="35"),
            None,
            _line("35 * * * *"),
        ),
        JobSpec(
            "staff-reports",
            "send reports asked for in chat that a restart interrupted",
            finish_pending_reports,
            _cron(minute="*/5"),
            None,
            _line("*/5 * * * *"),
        ),
        JobSpec(
            "housekeeping",
            "forget delivered outbox rows and old delivery ids",
            jobs.housekeeping,
            _cron(hour="3", minute="15"),
            None,
            _line("15 3 * * *"),
        ),
    )
}


@dataclass(frozen=True)
class JobContext:
    settings: Settings
    db: Database
    clock: Callable[[], datetime]
    wake: Callable[[], None] | None = None  # thread-safe: jobs run in the executor's threads


_context: JobContext | None = None


def run_job(job_id: str) -> int:
    """What every stored job calls: run one job of JOBS with the context's clock."""
    context = _context
    if context is None:
        raise RuntimeError("no scheduler context: call build_scheduler() first")
    queued = JOBS[job_id].run(context.db, context.settings, context.clock())
    if queued:
        logger.info("job %s queued %d messages", job_id, queued)
        if context.wake is not None:
            context.wake()
    return queued


RUN_JOB_REF = f"{run_job.__module__}:{run_job.__qualname__}"


def build_scheduler(
    app_ctx: AppContext, wake: Callable[[], None] | None = None
) -> AsyncIOScheduler:
    """A scheduler on the project's database, in TIMEZONE; `sync_jobs` adds the jobs."""
    global _context
    settings = app_ctx.settings
    _context = JobContext(settings, app_ctx.db, app_ctx.clock, wake)
    # A Database of its own: the same URL handling and SQLite pragmas (WAL, busy timeout),
    # and the job store may dispose it at shutdown without touching the bot's engine.
    # Its transactions begin IMMEDIATE on SQLite: creating its table reads, then writes, and a
    # deferred transaction doing that is refused at once ("database is locked") when the bot
    # commits a write in between; IMMEDIATE waits its turn under the busy timeout instead.
    engine = Database(settings.database_url).engine.execution_options(immediate=True)
    store = SQLAlchemyJobStore(engine=engine, tablename=TABLE)
    return AsyncIOScheduler(
        jobstores={"default": store},
        timezone=settings.tz,
        job_defaults={
            "coalesce": True,
            "misfire_grace_time": DIGEST_GRACE_SECONDS,
            "max_instances": 1,
        },
    )


def _unchanged(job: Job, spec: JobSpec, trigger: BaseTrigger) -> bool:
    return (
        job.func_ref == RUN_JOB_REF
        and tuple(job.args) == (spec.id,)
        and job.name == spec.title
        and repr(job.trigger) == repr(trigger)
        and job.misfire_grace_time == spec.misfire_grace_time
    )


def sync_jobs(scheduler: AsyncIOScheduler, settings: Settings) -> None:
    """Store our jobs in a started (e.g. paused) scheduler; unchanged ones are kept as stored."""
    for spec in JOBS.values():
        trigger = spec.trigger(settings)
        existing = scheduler.get_job(spec.id)
        if existing is not None and _unchanged(existing, spec, trigger):
            continue
        scheduler.add_job(
            run_job,
            trigger,
            args=[spec.id],
            id=spec.id,
            name=spec.title,
            misfire_grace_time=spec.misfire_grace_time,
            replace_existing=True,
        )
    for job in scheduler.get_jobs():
        if job.id not in JOBS:  # a job an older version stored
            scheduler.remove_job(job.id)


async def start_scheduler(
    app_ctx: AppContext, wake: Callable[[], None] | None = None
) -> AsyncIOScheduler:
    """Build, store the jobs, and start processing (on the running event loop)."""
    # Every minute's "Running job ... executed successfully" would drown the log.
    logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)
    scheduler = build_scheduler(app_ctx, wake)
    scheduler.start(paused=True)  # the job store is ready, nothing runs yet
    sync_jobs(scheduler, app_ctx.settings)
    scheduler.resume()
    return scheduler


async def stop_scheduler(scheduler: AsyncIOScheduler) -> None:
    """Stop processing; a job running in a thread finishes on its own."""
    if scheduler.running:
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0)  # AsyncIOScheduler shuts down in a loop callback


@dataclass(frozen=True)
class JobRow:
    id: str
    title: str
    trigger: str
    next_run: datetime | None
    crontab: str = ""  # the schedule as a crontab line (bot/schedule/cron.py puts it in words)


def describe_jobs(scheduler: AsyncIOScheduler) -> list[JobRow]:
    """The stored jobs, in JOBS order, with next run times in the scheduler's time zone."""
    order = list(JOBS)
    rows = [
        JobRow(
            job.id,
            job.name,
            str(job.trigger),
            job.next_run_time.astimezone(scheduler.timezone) if job.next_run_time else None,
        )
        for job in scheduler.get_jobs()
    ]
    return sorted(rows, key=lambda r: order.index(r.id) if r.id in order else len(order))


async def stored_jobs(app_ctx: AppContext) -> list[JobRow]:
    """For `classpulse schedule list`: sync the job store and read it, running nothing."""
    quiet = logging.getLogger("apscheduler")
    level = quiet.level
    quiet.setLevel(logging.WARNING)  # "Scheduler started", "Added job ...": not for a listing
    scheduler = build_scheduler(app_ctx)
    try:
        scheduler.start(paused=True)
        sync_jobs(scheduler, app_ctx.settings)
        return [
            replace(row, crontab=JOBS[row.id].crontab(app_ctx.settings))
            for row in describe_jobs(scheduler)
        ]
    finally:
        await stop_scheduler(scheduler)
        quiet.setLevel(level)
