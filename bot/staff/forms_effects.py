"""The Forms import asked for in chat (bot/staff/forms_flow.py): the applier checks and leaves a
job; the job fetches the file through the event's channel, imports it with the CLI's own
`analytics.import_forms` (one transaction, with its audit entry) and says the result in words.

Privacy: the file holds answers. It is written to a private folder only for the import and
deleted whatever happens; its reference lives only in the job; nothing of its content is logged.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from bot.conversation.effects import EffectContext, EffectFailed, Job
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
    survey = surveys.latest_survey(ctx.session, effect.slug)
    if survey is None:
        raise EffectFailed("stale_button")
    job = partial(
        _import_job,
        effect,
        fetch,
        survey.title,
        person.language,
        person.id,
        person.display_name,
    )
    ctx.jobs.append(Job(job, slow=True))


def _import_job(
    effect: ImportForms,
    fetch: FetchFile,
    title: str,
    lang: str,
    actor_id: int,
    actor_name: str,
    db: Database,
    settings: Settings,
    now: datetime,
) -> list[Reply]:
    from analytics import AnalyticsOptions, ImportFailed
    from analytics import import_forms as import_file

    def audit(session: Session, wave_id: int, label: str, count: int) -> None:
        staff.add_audit(
            session,
            now,
            actor_id=actor_id,
            actor_name=actor_name,
            action="import_forms",
            wave_id=wave_id,
            detail=f"{effect.slug} {label}: {count} responses",
        )

    # A folder of its own, so that the file keeps its name: without timestamps the wave is
    # named after it, as in the CLI.
    folder = private_dir(files_dir(settings) / "imports" / secrets.token_hex(8))
    target = folder / safe_name(effect.name)
    options = AnalyticsOptions(
        school_name=settings.school_name, tz=settings.tz, min_group_size=settings.min_group_size
    )
    try:
        try:
            within(fetch(effect.ref, target, MAX_FILE_BYTES), MAX_FILE_BYTES)
        except FileTooLarge:
            return [Reply(t(lang, "st_forms_too_big", name=effect.name, mb=MAX_FILE_MB))]
        except Exception as exc:  # the messenger, the network: say so, keep nothing
            logger.warning("forms import: the file could not be fetched: %s", type(exc).__name__)
            return [Reply(t(lang, "st_forms_fetch_failed", name=effect.name))]
        try:
            result = import_file(db, options, target, effect.slug, effect.wave, audit)
        except ImportFailed as exc:
            logger.info("forms import of %s refused: %s", effect.slug, exc.code)
            return [Reply(failure_text(lang, exc, title, _titles(db)))]
    finally:
        with contextlib.suppress(OSError):
            target.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            folder.rmdir()
    logger.info(
        "forms import of %s: %d responses%s",
        effect.slug,
        result.responses,
        " (a duplicate)" if result.duplicate else "",
    )
    return [Reply(result_text(lang, result, title))]


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
