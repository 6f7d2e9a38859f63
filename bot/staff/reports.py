"""Reports asked for in chat (`/report`): rendered after the event's commit, off the chat.

The request is a stored row (`report_requests`), written in the event's transaction with the
"готую звіт…" reply; the job renders it and, in one transaction, queues the messages (keyed per
request and part) and marks the request done. A crash before that leaves the request pending:
the `staff-reports` scheduler job finishes it, and the keys make a second run queue nothing new.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.channels.capabilities import capabilities
from bot.conversation.effects import reply_message
from bot.engine.events import Reply
from bot.reports.making import ReportScope, make_report
from bot.reports.messages import RenderedReport, report_messages, with_links
from bot.settings import Settings
from bot.staff.permissions import class_scope, may_act_on_class
from bot.texts import t
from storage.db import Database
from storage.records import WaveInfo
from storage.repositories import people, school, staff, waves
from storage.repositories.outbox import enqueue_many
from storage.repositories.staff import ReportRequestInfo

logger = logging.getLogger(__name__)

RETRY_AFTER = timedelta(minutes=5)  # a request older than this is not being worked on


def run_report_request(
    db: Database, settings: Settings, request_id: int, now: datetime
) -> list[Reply]:
    """Render one requested report. Outbox channels get it queued (and [] back); local
    channels (console, tests) get the replies back."""
    from analytics import ReportError  # lazily

    with db.read() as session:
        request = staff.get_report_request(session, request_id)
        if request is None or request.done:
            return []
        requester = people.person_info(session, request.person_id)
        wave = waves.get_wave(session, request.wave_id) if request.wave_id is not None else None
        class_name = (
            school.class_names(session, [request.class_id]).get(request.class_id)
            if request.class_id
            else None
        )
    lang = request.language
    replies: list[Reply]
    files: tuple[RenderedReport, str] | None = None  # to link for a channel that needs URLs
    # Checked again here: a request taken up after a restart may meet a role taken away.
    allowed = requester is not None and (
        may_act_on_class(requester, "report", request.class_id)
        if request.class_id
        else class_scope(requester, "report") is None
    )
    plan = _plan(request, wave, class_name, lang, now)
    if not allowed:
        replies = [Reply(t(lang, "st_forbidden_now"))]
    elif plan is None:
        replies = [Reply(t(lang, "stale_button"))]
    else:
        out_dir = settings.data_dir / "reports" / "requested"
        try:
            # A failed or timed-out render raises: the job tells the director, the request
            # stays pending and `finish_pending_reports` tries again.
            rendered = make_report(db, settings, plan.scope, out_dir, plan.stem)
        except ReportError as exc:
            logger.info("report request %d: %s", request_id, exc)
            replies = [Reply(plan.empty)]
        else:
            replies = report_messages(lang, plan.intro, rendered, request.channel)
            files = (rendered, plan.intro)
    through_outbox = capabilities(request.channel).through_outbox
    with db.write() as session:
        if not staff.finish_report_request(session, request_id, now):
            return []  # another process sent it
        if files is not None and capabilities(request.channel).sends_files_by_url:
            linked = with_links(session, settings, files[0], request.channel, now)
            replies = report_messages(lang, files[1], linked, request.channel)
        if through_outbox:
            key = f"report:{request_id}"
            rows = [
                reply_message(
                    request.channel,
                    request.external_id,
                    r,
                    f"{key}:{i}",
                    request.person_id,
                    "report",
                )
                for i, r in enumerate(replies)
            ]
            enqueue_many(session, rows, now)
    return [] if through_outbox else replies


@dataclass(frozen=True)
class _Plan:
    """What one request asks to be made, and how it is introduced or regretted."""

    scope: ReportScope
    stem: str  # the files' names
    intro: str
    empty: str  # when there is nothing to report yet


def _plan(
    request: ReportRequestInfo,
    wave: WaveInfo | None,
    class_name: str | None,
    lang: str,
    now: datetime,
) -> _Plan | None:
    """None when the request's wave is gone."""
    where = class_name or t(lang, "st_school")
    suffix = f"-{request.class_id}" if class_name else ""
    if request.wave_id is None:  # every survey's open (else latest) wave: the digest's scope
        return _Plan(
            ReportScope(None, None, class_name, now=now),
            f"report-{request.id}-all{suffix}",
            t(lang, "st_report_intro_all", scope=where),
            t(lang, "st_report_none"),
        )
    if wave is None:
        return None
    return _Plan(
        ReportScope((wave.slug,), wave.label, class_name, now=now),
        f"report-{request.id}-{wave.slug}-{wave.label}{suffix}",
        t(lang, "st_report_intro", title=wave.title, label=wave.label, scope=where),
        t(lang, "st_report_empty", title=wave.title, label=wave.label),
    )


def finish_pending_reports(db: Database, settings: Settings, now: datetime) -> int:
    """The scheduler's catch-up: requests left pending by a crash or a restart."""
    with db.read() as session:
        pending = staff.pending_report_requests(session, before=now - RETRY_AFTER)
    for request_id in pending:
        try:
            run_report_request(db, settings, request_id, now)
        except Exception:
            logger.exception("report request %d failed", request_id)
    return len(pending)
