"""The Forms import asked for in chat (bot/staff/forms_flow.py): the applier stores the request
(`forms_import_requests`, in the event's transaction, with the "імпортую…" reply) and leaves a
job; the job fetches the file through the event's channel, imports it with the CLI's own
`analytics.import_forms` and says the result in words.

Nothing acknowledged is lost: the request is deleted in the import's own transaction (with its
audit entry), or with the reply that says why nothing was imported. A crash in between leaves
it stored, and the channel imports it when the bot starts again (`resume_forms_imports`). Two
processes that take the same request both do the work, and only the one that deletes the
request keeps its import and answers.

Privacy: the file holds answers. It is written to a private folder only for the import and
deleted whatever happens; the stored request holds the messenger's reference to it, not the
file, and only until it is answered; nothing of its content is logged.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from bot.channels.capabilities import capabilities
from bot.conversation.effects import EffectContext, EffectFailed, Job, reply_message
from bot.engine.events import Reply
from bot.files.inbound import FetchFile, FileTooLarge, within
from bot.files.private import private_dir
from bot.files.store import files_dir, safe_name
from bot.settings import Settings
from bot.staff.forms_flow import ACTION, MAX_FILE_BYTES, MAX_FILE_MB, ImportForms
from bot.staff.permissions import scope_of
from bot.texts import t
from storage.db import Database
from storage.repositories import people, staff, surveys
from storage.repositories.outbox import enqueue_many
from storage.repositories.staff import FormsImportInfo

if TYPE_CHECKING:
    from analytics.forms_import import ImportFailed, ImportResult

logger = logging.getLogger(__name__)
MAX_PROBLEMS = 10  # lines of problems in chat; the CLI lists 30
MAX_COLUMNS = 5


def import_forms(effect: ImportForms, ctx: EffectContext) -> None:
    person = people.person_info(ctx.session, ctx.person_id) if ctx.person_id else None
    if person is None:
        raise EffectFailed("not_registered")
    if scope_of(person, ACTION) is None:
        raise EffectFailed("st_forbidden_now")
    fetch = ctx.file_sources.get(ctx.channel)
    if fetch is None:
        raise EffectFailed("st_forms_no_files")
    if surveys.latest_survey(ctx.session, effect.slug) is None:
        raise EffectFailed("stale_button")
    request_id = staff.add_forms_import_request(
        ctx.session,
        person_id=person.id,
        channel=ctx.channel,
        external_id=ctx.external_id,
        language=person.language,
        survey_slug=effect.slug,
        wave_label=effect.wave,
        file_ref=effect.ref,
        file_name=effect.name,
        now=ctx.now,
    )
    ctx.jobs.append(Job(partial(run_forms_import, request_id, fetch), slow=True))


def resume_forms_imports(
    db: Database, settings: Settings, channel: str, fetch: FetchFile, now: datetime
) -> int:
    """Import what a crash or a stop left stored for `channel` (its file source is ready now);
    how many requests were taken up."""
    with db.read() as session:
        pending = staff.pending_forms_imports(session, channel)
    for request_id in pending:
        try:
            run_forms_import(request_id, fetch, db, settings, now)
        except Exception:
            logger.exception("forms import request %d failed", request_id)
    if pending:
        logger.info("forms import: %d request(s) left by an earlier run taken up", len(pending))
    return len(pending)


class _TakenElsewhere(Exception):
    """Another process finished this request first: this import must be rolled back."""


def run_forms_import(
    request_id: int, fetch: FetchFile, db: Database, settings: Settings, now: datetime
) -> list[Reply]:
    """Fetch, import and answer one stored request. Outbox channels get the answer queued (and
    [] back); local channels (console, tests) get it back."""
    from analytics import AnalyticsOptions, ImportFailed
    from analytics import import_forms as import_file

    with db.read() as session:
        request = staff.get_forms_import_request(session, request_id)
        if request is None:
            return []  # answered already (by another process, or before a restart)
        person = people.person_info(session, request.person_id)
        survey = surveys.latest_survey(session, request.survey_slug)
        title = survey.title if survey is not None else ""
    lang = request.language
    if person is None or survey is None:
        return _answer(db, request, [Reply(t(lang, "stale_button"))], now)
    if scope_of(person, ACTION) is None:  # no longer staff who may (a request taken up later)
        return _answer(db, request, [Reply(t(lang, "st_forbidden_now"))], now)

    def audit(session: Session, wave_id: int, label: str, count: int) -> None:
        if not staff.finish_forms_import_request(session, request_id):
            raise _TakenElsewhere
        staff.add_audit(
            session,
            now,
            actor_id=person.id,
            actor_name=person.display_name,
            action="import_forms",
            wave_id=wave_id,
            detail=f"{request.survey_slug} {label}: {count} responses",
        )

    # A folder of its own, so that the file keeps its name: without timestamps the wave is
    # named after it, as in the CLI.
    folder = private_dir(files_dir(settings) / "imports" / secrets.token_hex(8))
    target = folder / safe_name(request.file_name)
    options = AnalyticsOptions(
        school_name=settings.school_name, tz=settings.tz, min_group_size=settings.min_group_size
    )
    name = request.file_name
    try:
        try:
            within(fetch(request.file_ref, target, MAX_FILE_BYTES), MAX_FILE_BYTES)
        except FileTooLarge:
            return _answer(
                db, request, [Reply(t(lang, "st_forms_too_big", name=name, mb=MAX_FILE_MB))], now
            )
        except Exception as exc:  # the messenger, the network: say so, keep nothing
            logger.warning("forms import: the file could not be fetched: %s", type(exc).__name__)
            return _answer(db, request, [Reply(t(lang, "st_forms_fetch_failed", name=name))], now)
        try:
            result = import_file(
                db, options, target, request.survey_slug, request.wave_label, audit
            )
        except _TakenElsewhere:
            return []
        except ImportFailed as exc:
            logger.info("forms import of %s refused: %s", request.survey_slug, exc.code)
            text = failure_text(lang, exc, title, _titles(db))
            return _answer(db, request, [Reply(text)], now)
    finally:
        with contextlib.suppress(OSError):
            target.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            folder.rmdir()
    logger.info(
        "forms import of %s: %d responses%s",
        request.survey_slug,
        result.responses,
        " (a duplicate)" if result.duplicate else "",
    )
    # A new wave deleted the request in its own transaction; a duplicate stored nothing.
    replies = [Reply(result_text(lang, result, title))]
    return _answer(db, request, replies, now, finish=result.duplicate)


def _answer(
    db: Database, request: FormsImportInfo, replies: list[Reply], now: datetime, finish: bool = True
) -> list[Reply]:
    """Finish the request (unless the import did) and queue the answer, in one transaction;
    nothing when another process finished it first."""
    through_outbox = capabilities(request.channel).through_outbox
    with db.write() as session:
        if finish and not staff.finish_forms_import_request(session, request.id):
            return []
        if through_outbox:
            key = f"forms:{request.id}"
            rows = [
                reply_message(
                    request.channel, request.external_id, r, f"{key}:{i}", request.person_id
                )
                for i, r in enumerate(replies)
            ]
            enqueue_many(session, rows, now)
    return [] if through_outbox else replies


def result_text(lang: str, result: ImportResult, title: str) -> str:
    """What the import did, in words."""
    if result.duplicate:
        return t(lang, "st_forms_duplicate", wave=result.wave)
    lines = [
        t(
            lang,
            "st_forms_done",
            count=result.responses,
            title=title,
            wave=result.wave,
        )
    ]
    if result.classes:
        lines.append(t(lang, "st_forms_classes", classes=", ".join(result.classes)))
    if result.undated_rows:
        lines.append(t(lang, "st_forms_undated", count=result.undated_rows))
    if result.unknown_columns:
        shown = ", ".join(result.unknown_columns[:MAX_COLUMNS])
        more = len(result.unknown_columns) - MAX_COLUMNS
        lines.append(
            t(lang, "st_forms_unknown_columns", columns=shown + (" …" if more > 0 else ""))
        )
    if result.missing_questions:
        numbers = ", ".join(result.missing_questions)
        lines.append(t(lang, "st_forms_missing", numbers=numbers))
    if result.kept_as_other:
        lines.append(t(lang, "st_forms_other", count=len(result.kept_as_other)))
    lines.append(t(lang, "st_forms_compare"))
    return "\n".join(lines)


def _titles(db: Database) -> dict[str, str]:
    with db.read() as session:
        return {row.slug: row.title for row in surveys.list_surveys(session)}


def failure_text(lang: str, exc: ImportFailed, title: str, titles: dict[str, str]) -> str:
    """Why nothing was imported, in words, with the first problems by row."""
    other = str(exc.params.get("other", ""))
    params = {
        **exc.params,
        "title": title,
        "other": titles.get(other, other),
        "count": len(exc.problems),
    }
    lines = [t(lang, f"st_forms_err_{exc.code}", **params)]
    for problem in exc.problems[:MAX_PROBLEMS]:
        column = problem.column if len(problem.column) <= 40 else problem.column[:39] + "…"
        lines.append(
            t(
                lang,
                f"st_forms_problem_{problem.code or 'option'}",
                row=problem.row or 1,
                column=column,
                value=problem.value,
            )
        )
    if len(exc.problems) > MAX_PROBLEMS:
        lines.append(t(lang, "st_forms_more", count=len(exc.problems) - MAX_PROBLEMS))
    lines.append(t(lang, "st_forms_nothing_changed"))
    return "\n".join(lines)
