"""The appliers of the staff flows' effects, inside the event's transaction.

Each applier checks the permission table again (the stored state may have changed since the
flow read it). Work that needs its own transactions (creating an invite with its QR code,
rendering a report, a wave's final report) is left as a `Job` for after the commit.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

from bot.conversation.effects import EffectContext, EffectFailed, Job
from bot.engine.core import Send
from bot.engine.events import Reply
from bot.members.identity import bot_identity
from bot.members.invites import InviteError, create_invite
from bot.settings import Settings
from bot.staff.flows import (
    AddClasses,
    AssignClassTeacher,
    CloseSurvey,
    MakeInvite,
    Nudge,
    OpenSurvey,
    RemoveRole,
    RequestReport,
    class_order,
)
from bot.staff.permissions import class_scope, may_act_on_class, scope_of
from bot.staff.reports import run_report_request
from bot.staff.service import (
    StaffError,
    assign_class_teacher,
    invite_replies,
    nudge_class,
    remove_role,
)
from bot.surveys.admin import WaveError, close_wave, create_wave, open_wave
from bot.texts import t
from storage.db import Database
from storage.records import PersonInfo
from storage.repositories import people, school, staff, waves
from storage.repositories.school import ClassNameError

logger = logging.getLogger(__name__)


def _person(ctx: EffectContext, action: str) -> PersonInfo:
    person = people.person_info(ctx.session, ctx.person_id) if ctx.person_id else None
    if person is None:
        raise EffectFailed("not_registered")
    if scope_of(person, action) is None:
        raise EffectFailed("st_forbidden_now")
    return person


# ---------------------------------------------------------------- report
def request_report(effect: RequestReport, ctx: EffectContext) -> None:
    person = _person(ctx, "report")
    if effect.class_id is None:
        if class_scope(person, "report") is not None:
            raise EffectFailed("st_forbidden_now")
    elif not may_act_on_class(person, "report", effect.class_id):
        raise EffectFailed("st_forbidden_now")
    request_id = staff.add_report_request(
        ctx.session,
        person_id=person.id,
        channel=ctx.channel,
        external_id=ctx.external_id,
        language=person.language,
        wave_id=effect.wave_id,
        class_id=effect.class_id,
        now=ctx.now,
    )
    ctx.jobs.append(Job(partial(_report_job, request_id), slow=True))


def _report_job(request_id: int, db: Database, settings: Settings, now: datetime) -> list[Reply]:
    return run_report_request(db, settings, request_id, now)


# ---------------------------------------------------------------- nudge
def nudge(effect: Nudge, ctx: EffectContext) -> None:
    person = _person(ctx, "nudge")
    if not may_act_on_class(person, "nudge", effect.class_id):
        raise EffectFailed("st_forbidden_now")
    wave = waves.get_wave(ctx.session, effect.wave_id)
    if wave is None or wave.status != "open" or effect.class_id not in wave.class_ids:
        raise EffectFailed("stale_button")
    try:
        outgoing = nudge_class(
            ctx.session,
            wave,
            effect.class_id,
            ctx.settings,
            ctx.now,
            actor_id=person.id,
            actor_name=person.display_name,
        )
    except StaffError as exc:
        raise EffectFailed(exc.key) from exc
    ctx.outgoing.extend(Send(o) for o in outgoing)
    logger.info("nudge for wave %d: %d reminders", wave.id, len(outgoing))


# ---------------------------------------------------------------- invite
def make_invite(effect: MakeInvite, ctx: EffectContext) -> None:
    person = _person(ctx, "invite")
    family = effect.role in ("student", "parent")
    action = "invite" if family else "invite_staff"
    if scope_of(person, action) is None:
        raise EffectFailed("st_forbidden_now")
    if effect.class_id is not None and not may_act_on_class(person, action, effect.class_id):
        raise EffectFailed("st_forbidden_now")
    if effect.class_id is None and class_scope(person, action) is not None:
        raise EffectFailed("st_forbidden_now")
    class_name = (
        school.class_names(ctx.session, [effect.class_id]).get(effect.class_id)
        if effect.class_id
        else None
    )
    staff.add_audit(
        ctx.session,
        ctx.now,
        actor_id=person.id,
        actor_name=person.display_name,
        action="invite",
        class_id=effect.class_id,
        detail=effect.role,
    )
    job = partial(_invite_job, person.language, class_name, effect.role, ctx.channel)
    ctx.jobs.append(Job(job))


def _invite_job(
    lang: str,
    class_name: str | None,
    role: str,
    channel: str,
    db: Database,
    settings: Settings,
    now: datetime,
) -> list[Reply]:
    try:
        created = create_invite(db, settings, class_name, role, None, None, now)
    except InviteError:
        return [Reply(t(lang, "st_invite_failed"))]
    return invite_replies(lang, created, role, class_name, settings.school_name, channel)


# ---------------------------------------------------------------- survey
def open_survey(effect: OpenSurvey, ctx: EffectContext) -> None:
    person = _person(ctx, "survey")
    try:
        wave = create_wave(
            ctx.session,
            effect.slug,
            list(effect.class_ids),
            ctx.now,
            closes_at=ctx.now + timedelta(days=effect.close_days),
        )
        me = bot_identity(ctx.session, ctx.settings)
        opened = open_wave(ctx.session, wave.id, ctx.now, me)
    except WaveError as exc:
        logger.info("wave not opened from chat: %s", exc)
        raise EffectFailed("st_survey_failed") from exc
    staff.add_audit(
        ctx.session,
        ctx.now,
        actor_id=person.id,
        actor_name=person.display_name,
        action="open_wave",
        wave_id=wave.id,
        detail=f"{effect.slug} {wave.label}: {opened.invitations} invitations",
    )
    text = t(person.language, "st_survey_opened", title=wave.title, count=opened.invitations)
    ctx.jobs.append(Job(partial(_reply_job, text)))


def close_survey(effect: CloseSurvey, ctx: EffectContext) -> None:
    person = _person(ctx, "survey")
    wave = waves.get_wave(ctx.session, effect.wave_id)
    if wave is None or not close_wave(ctx.session, effect.wave_id, ctx.now):
        raise EffectFailed("stale_button")
    staff.add_audit(
        ctx.session,
        ctx.now,
        actor_id=person.id,
        actor_name=person.display_name,
        action="close_wave",
        wave_id=wave.id,
        detail=f"{wave.slug} {wave.label}",
    )
    ctx.jobs.append(Job(partial(_final_report_job, wave.id), slow=True))


def _final_report_job(wave_id: int, db: Database, settings: Settings, now: datetime) -> list[Reply]:
    from bot.schedule.jobs import send_final_report

    send_final_report(db, settings, wave_id, now)
    return []


# ---------------------------------------------------------------- staff
def assign(effect: AssignClassTeacher, ctx: EffectContext) -> None:
    person = _person(ctx, "staff")
    try:
        assign_class_teacher(
            ctx.session,
            effect.person_id,
            effect.class_id,
            ctx.now,
            actor_id=person.id,
            actor_name=person.display_name,
        )
    except StaffError as exc:
        raise EffectFailed(exc.key) from exc


def add_classes(effect: AddClasses, ctx: EffectContext) -> None:
    """The director's new classes: normalised, the new ones stored and logged, and a reply with
    the school's classes after the commit."""
    person = _person(ctx, "staff")
    before = set(school.class_names(ctx.session).values())
    try:
        rows = school.add_classes(ctx.session, ctx.settings.school_name, list(effect.names))
    except ClassNameError as exc:
        raise EffectFailed("st_classes_bad") from exc
    added = sorted({r.name for r in rows} - before, key=class_order)
    if added:
        staff.add_audit(
            ctx.session,
            ctx.now,
            actor_id=person.id,
            actor_name=person.display_name,
            action="add_classes",
            detail=", ".join(added)[:500],
        )
    everyone = ", ".join(sorted(before | set(added), key=class_order))
    key, params = (
        ("st_classes_added", {"added": ", ".join(added)}) if added else ("st_classes_known", {})
    )
    text = t(person.language, key, classes=everyone, **params)
    ctx.jobs.append(Job(partial(_reply_job, text)))


def _reply_job(text: str, db: Database, settings: Settings, now: datetime) -> list[Reply]:
    return [Reply(text)]


def remove(effect: RemoveRole, ctx: EffectContext) -> None:
    person = _person(ctx, "staff")
    try:
        remove_role(
            ctx.session,
            effect.person_id,
            effect.class_id,
            effect.role,
            ctx.now,
            actor_id=person.id,
            actor_name=person.display_name,
        )
    except StaffError as exc:
        raise EffectFailed(exc.key) from exc
