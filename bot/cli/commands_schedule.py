"""`classpulse schedule list|run-now`: the scheduler's jobs, without the bot running."""

from __future__ import annotations

import asyncio

import click

from bot.cli.app import AppContext, fail, main, pass_app
from bot.schedule.cron import describe_cron
from bot.schedule.scheduler import JOBS, stored_jobs
from bot.texts import t


@main.group()
def schedule() -> None:
    """Scheduled jobs: weekly digest, survey open/close, reminders."""


@schedule.command("list")
@pass_app
def schedule_list(app: AppContext) -> None:
    """Show the jobs, their schedules in words and next run times (in TIMEZONE)."""
    app.migrate()
    try:
        rows = asyncio.run(stored_jobs(app))
    except ValueError as exc:  # a DIGEST_CRON that is not a cron expression
        fail(str(exc))
    tz = app.settings.timezone
    lang = app.settings.bot_language
    click.echo(f"{'JOB':<20} {'NEXT RUN (' + tz + ')':<26} SCHEDULE")
    now = app.clock()
    for row in rows:
        when = f"{row.next_run:%Y-%m-%d %H:%M %a}" if row.next_run else "paused"
        click.echo(f"{row.id:<20} {when:<26} {describe_cron(row.crontab, lang)}")
        late = row.next_run is not None and row.next_run <= now
        # Overdue: the bot is not running; on start it runs once (the digest only within 6 h).
        click.echo(f"{'':<20} {row.title}" + (" (overdue)" if late else ""))


@schedule.command("run-now")
@click.argument("job_id", type=click.Choice(list(JOBS)))
@pass_app
def schedule_run_now(app: AppContext, job_id: str) -> None:
    """Run one job immediately (its messages go out when `classpulse run` is running)."""
    app.migrate()
    queued = JOBS[job_id].run(app.db, app.settings, app.clock())
    click.echo(f"{job_id}: {t('en', 'count_messages', count=queued)} queued")
