"""Scheduled work as plain functions: `(db, settings, now) -> messages queued`.

The scheduler (bot/schedule/scheduler.py) and `classpulse schedule run-now` call these with the
clock's `now`; tests call them directly. They only enqueue (the outbox sender delivers) and every
row has an idempotency key, so running a job twice, or after a crash, never sends anything twice.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from bot.channels.capabilities import LOCAL_CHANNELS, capabilities
from bot.criteria.service import queue_criteria_reminders
from bot.members.identity import bot_identity
from bot.reports.making import ReportScope, make_report
from bot.reports.messages import RenderedReport, queue_for_leaders
from bot.settings import Settings
from bot.surveys.admin import WaveError, close_wave, open_wave, reminder_reply
from bot.texts import t
from bot.usage.cost import SESSION_MEMORY, OverLimit, best_time, usage_report
from bot.usage.cost import check as check_cost
from storage.db import Database
from storage.repositories import conversations, people, reminders, waves
from storage.repositories import outbox as outbox_repo
from storage.repositories import usage as usage_repo
from storage.repositories.outbox import NewMessage, enqueue_many
from storage.repositories.waves import WaveInfo

logger = logging.getLogger(__name__)


def _reports_dir(settings: Settings, now: datetime) -> Path:
    """`<data_dir>/reports/<local date>/`: where a day's report files are kept."""
    return settings.data_dir / "reports" / now.astimezone(settings.tz).date().isoformat()


# ---------------------------------------------------------------- waves
def open_due_waves(db: Database, settings: Settings, now: datetime) -> int:
    """Open scheduled waves whose time has come; returns the invitations queued."""
    with db.read() as session:
        due = [
            w
            for w in waves.list_waves(session, "scheduled")
            if w.opens_at is not None and w.opens_at <= now
        ]
    queued = 0
    for wave in due:  # one transaction each: one bad wave does not hold up the others
        with db.write() as session:
            if wave.closes_at is not None and wave.closes_at <= now:
                # The bot was down for the wave's whole window: inviting now would be wrong.
                close_wave(session, wave.id, now, owe_report=False)
                logger.warning("wave %s was due to open and close while down: closed", wave.id)
                continue
            try:
                opened = open_wave(
                    session, wave.id, now, bot_identity(session, settings), settings=settings
                )
            except WaveError as exc:
                logger.warning("wave %s not opened: %s", wave.id, exc)
                continue
        logger.info("wave %s opened: %s invitations queued", wave.id, opened.invitations)
        queued += opened.invitations
    return queued


def close_due_waves(db: Database, settings: Settings, now: datetime) -> int:
    """Close open waves past their closing time and queue each final report; then make the
    final reports still owed (a crash or a failed render after an earlier close)."""
    with db.read() as session:
        owed = waves.final_reports_due(session, now)
        due = [
            w.id
            for w in waves.list_waves(session, "open")
            if w.closes_at is not None and w.closes_at <= now
        ]
    queued = sum(send_final_report(db, settings, wave_id, now) for wave_id in owed)
    return queued + sum(close_wave_and_report(db, settings, wave_id, now) for wave_id in due)


def close_wave_and_report(db: Database, settings: Settings, wave_id: int, now: datetime) -> int:
    """Close a wave (commit first: the report reads it closed, and the report is owed from
    then on), then queue its final report."""
    with db.write() as session:
        changed = close_wave(session, wave_id, now)
    if not changed:
        return 0
    logger.info("wave %s closed", wave_id)
    return send_final_report(db, settings, wave_id, now)


def open_and_close_waves(db: Database, settings: Settings, now: datetime) -> int:
    return open_due_waves(db, settings, now) + close_due_waves(db, settings, now)


# ---------------------------------------------------------------- reports
# A final report that failed is tried again after as long as the wave has been closed (at least
# this, at most a day): a passing fault is retried soon, a lasting one does not spawn a render
# every few minutes for weeks.
FINAL_REPORT_RETRY_MIN = timedelta(minutes=5)
FINAL_REPORT_RETRY_MAX = timedelta(days=1)


def _retry_after(wave: WaveInfo, now: datetime) -> timedelta:
    closed_for = now - wave.closes_at if wave.closes_at is not None else FINAL_REPORT_RETRY_MIN
    return min(max(closed_for, FINAL_REPORT_RETRY_MIN), FINAL_REPORT_RETRY_MAX)


def send_final_report(db: Database, settings: Settings, wave_id: int, now: datetime) -> int:
    """Queue a wave's report (summary, chart, XLSX, DOCX) to the directors and admins, and mark
    it no longer owed. A failed render keeps it owed (tried again later) and tells the leaders
    once; the outbox keys make a second run of either queue nothing twice."""
    from analytics import ReportError  # lazily

    with db.read() as session:
        wave = waves.get_wave(session, wave_id)
    if wave is None:
        return 0
    scope = ReportScope((wave.slug,), wave.label, now=now)
    stem = f"final-{wave.slug}-{wave.label}"
    params = {"title": wave.title, "label": wave.label}
    try:
        rendered = make_report(db, settings, scope, _reports_dir(settings, now), stem)
    except ReportError as exc:  # nothing a retry could change
        logger.warning("no final report for wave %s: %s", wave_id, exc)
        _final_report_owed(db, wave_id, None)
        return 0
    except Exception:
        retry = _retry_after(wave, now)
        logger.exception("final report of wave %s failed; next try in %s", wave_id, retry)
        _final_report_owed(db, wave_id, now + retry)
        return queue_for_leaders(
            db,
            settings,
            RenderedReport("", ()),
            key_prefix=f"final-failed:{wave.id}",
            intro_key="final_report_failed",
            intro_params=params,
            kind="report",
            urgent=False,
            now=now,
        )
    queued = queue_for_leaders(
        db,
        settings,
        rendered,
        key_prefix=f"final:{wave.id}",
        intro_key="final_report_intro",
        intro_params=params,
        kind="report",
        urgent=False,  # a wave closing at 23:59 should not wake the director: quiet hours hold it
        now=now,
    )
    _final_report_owed(db, wave_id, None)
    return queued


def _final_report_owed(db: Database, wave_id: int, due: datetime | None) -> None:
    with db.write() as session:
        waves.set_final_report_due(session, wave_id, due)


def send_weekly_digest(db: Database, settings: Settings, now: datetime) -> int:
    """Queue the digest of every survey's open (else latest) wave; once per local day."""
    from analytics import ReportError

    try:
        rendered = make_report(
            db, settings, ReportScope(now=now), _reports_dir(settings, now), "digest"
        )
    except ReportError as exc:
        logger.info("no digest: %s", exc)
        return 0
    day = now.astimezone(settings.tz).date()
    with db.read() as session:
        usage = usage_report(session, settings, now)
    if usage.month_session or usage.month_initiated:
        line = t(
            settings.bot_language,
            "digest_usage",
            label=usage.label,
            paid=usage.month_initiated,
            free=usage.month_session,
            money=f"{usage.month_cost:.2f} {usage.currency}",
        )
        rendered = replace(rendered, text=f"{rendered.text}\n\n{line}")
    return queue_for_leaders(
        db,
        settings,
        rendered,
        key_prefix=f"digest:{day.isoformat()}",
        intro_key="digest_intro",
        intro_params={"date": day.strftime("%d.%m.%Y")},
        kind="digest",
        urgent=True,  # due at 08:00, when quiet hours end by default; not to be held back
        now=now,
    )


# ---------------------------------------------------------------- reminders
def queue_survey_reminders(db: Database, settings: Settings, now: datetime) -> int:
    """Remind who has not completed an open wave: N days after it opened and after the last
    reminder, at most M times. Nothing is queued in quiet hours (the next run will do it)."""
    if settings.survey_reminder_max == 0 or settings.in_quiet_hours(now):
        return 0
    after = timedelta(days=settings.survey_reminder_after_days)
    queued = 0
    with db.read() as session:
        due = [
            w
            for w in waves.list_waves(session, "open")
            if w.opens_at is not None
            and w.opens_at <= now - after
            and (w.closes_at is None or w.closes_at > now)
        ]
    for wave in due:
        try:
            with db.write() as session:
                queued += _remind_wave(session, wave, settings, now, after)
        except OverLimit as exc:  # rolled back: nobody is counted as reminded
            logger.warning("reminders of wave %s: %s", wave.id, exc.estimate.refusal())
    return queued


def _remind_wave(
    session: Session, wave: WaveInfo, settings: Settings, now: datetime, after: timedelta
) -> int:
    done = reminders.completed_people(session, wave.id)
    states = reminders.reminder_states(session, wave.id)
    by_person: dict[int, list[people.Recipient]] = {}
    for r in people.recipients(session, list(wave.class_ids), wave.audience):
        if r.person_id not in done and r.channel not in LOCAL_CHANNELS:
            by_person.setdefault(r.person_id, []).append(r)
    messages: list[NewMessage] = []
    ends = _session_ends(session, by_person)
    for person_id, accounts in by_person.items():
        state = states.get(person_id)
        if state is not None and (
            state.count >= settings.survey_reminder_max
            or (state.last_sent_at is not None and state.last_sent_at > now - after)
        ):
            continue
        number = reminders.record_reminder(session, wave.id, person_id, now)
        for r in accounts:
            not_before = None
            if capabilities(r.channel).paid_outside_session:
                # A paid channel: one reminder per wave, at the subscriber's best hour.
                if number > 1:
                    continue
                known = ends.get((r.channel, r.external_id))
                not_before = best_time(now, known, settings, wave.closes_at)
            messages.append(
                NewMessage(
                    channel=r.channel,
                    recipient=r.external_id,
                    payload={"reply": reminder_reply(r.language, wave, settings).to_json()},
                    idempotency_key=f"{reminders.reminder_key(wave.id, person_id)}{number}:"
                    f"{r.channel}:{r.external_id}",
                    person_id=person_id,
                    kind="reminder",
                    urgent=False,
                    not_before=not_before,
                )
            )
    check_cost(session, [(m.channel, m.recipient) for m in messages], now, settings)
    return enqueue_many(session, messages, now)


def _session_ends(
    session: Session, by_person: dict[int, list[people.Recipient]]
) -> dict[tuple[str, str], datetime]:
    """When the session of each account on a paid channel ends (or ended), where known."""
    wanted: dict[str, list[str]] = {}
    for accounts in by_person.values():
        for r in accounts:
            if capabilities(r.channel).paid_outside_session:
                wanted.setdefault(r.channel, []).append(r.external_id)
    found: dict[tuple[str, str], datetime] = {}
    for channel, ids in wanted.items():
        for external_id, ends_at in usage_repo.session_ends(session, channel, ids).items():
            found[(channel, external_id)] = ends_at
    return found


# ---------------------------------------------------------------- criteria notices
def queue_criteria_reminders_job(db: Database, settings: Settings, now: datetime) -> int:
    """Run the criteria notices' reminders (bot/criteria/service.py)."""
    try:
        with db.write() as session:
            return queue_criteria_reminders(session, now, settings)
    except OverLimit as exc:  # rolled back: nobody is counted as reminded
        logger.warning("criteria reminders: %s", exc.estimate.refusal())
        return 0


# ---------------------------------------------------------------- housekeeping
OUTBOX_RETENTION = timedelta(days=90)
DELIVERY_IDS_RETENTION = timedelta(days=14)  # Telegram and Viber stop re-delivering long before


def housekeeping(db: Database, settings: Settings, now: datetime) -> int:
    """Delete finished outbox rows after 90 days and inbound delivery ids after 14. Queues
    nothing (returns 0); receipts that coverage needs live on the notice deliveries."""
    with db.write() as session:
        purged = outbox_repo.purge_finished(session, now - OUTBOX_RETENTION)
        conversations.prune_processed(session, now - DELIVERY_IDS_RETENTION)
        # An ended session still tells a subscriber's best hour for a while (best_time).
        usage_repo.forget_sessions(session, now - SESSION_MEMORY)
    logger.info("housekeeping: %d outbox rows purged", purged)
    return 0
