"""Staff work that the chat and the CLI share: nudges, role changes with their audit record,
the invite's messages, and the audit log."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.channels.capabilities import capabilities
from bot.conversation.effects import outgoing_messages
from bot.engine.events import OutFile, Outgoing, Reply
from bot.members.invites import CreatedInvite
from bot.settings import Settings
from bot.surveys.admin import reminder_reply
from bot.texts import role_name, t
from storage.records import FAMILY_ROLES, AuditEntry, WaveInfo
from storage.repositories import people, reminders, staff
from storage.repositories.outbox import enqueue_many

NUDGE_EVERY = timedelta(hours=24)


class StaffError(Exception):
    """A change that cannot be made; `key` is the text that says why."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def nudge_class(
    session: Session,
    wave: WaveInfo,
    class_id: int,
    settings: Settings,
    now: datetime,
    *,
    actor_id: int | None,
    actor_name: str,
) -> list[Outgoing]:
    """One reminder to each member of the class who has not completed the wave (up to the
    reminder cap; non-urgent, so quiet hours hold it). At most once per 24 h per class and
    wave: raises StaffError("st_nudge_too_soon_now") otherwise."""
    last = staff.last_action_at(session, "nudge", wave.id, class_id)
    if last is not None and last + NUDGE_EVERY > now:
        raise StaffError("st_nudge_too_soon_now")
    done = reminders.completed_people(session, wave.id)
    states = reminders.reminder_states(session, wave.id)
    out: list[Outgoing] = []
    languages: dict[int, str] = {}
    for r in people.recipients(session, [class_id], wave.audience):
        if r.person_id in done or r.class_id != class_id:
            continue
        languages.setdefault(r.person_id, r.language)
    for person_id, lang in languages.items():
        state = states.get(person_id)
        if state is not None and state.count >= settings.survey_reminder_max:
            continue
        number = reminders.record_reminder(session, wave.id, person_id, now)
        out.append(
            Outgoing(
                person_id,
                reminder_reply(lang, wave, settings),
                kind="reminder",
                urgent=False,
                key=f"{reminders.nudge_key(wave.id, person_id)}{number}",
            )
        )
    staff.add_audit(
        session,
        now,
        actor_id=actor_id,
        actor_name=actor_name,
        action="nudge",
        class_id=class_id,
        wave_id=wave.id,
        detail=f"{len(out)} reminders",
    )
    return out


def assign_class_teacher(
    session: Session,
    person_id: int,
    class_id: int,
    now: datetime,
    *,
    actor_id: int | None,
    actor_name: str,
) -> bool:
    """Make a registered teacher the class teacher of a class; False if they already are."""
    person = people.person_info(session, person_id)
    if person is None or not person.roles & {"teacher", "class_teacher"}:
        raise StaffError("st_staff_not_teacher_now")
    added = people.add_membership(session, person_id, class_id, "class_teacher")
    if added:
        staff.add_audit(
            session,
            now,
            actor_id=actor_id,
            actor_name=actor_name,
            action="assign_class_teacher",
            target_id=person_id,
            target_name=person.display_name,
            class_id=class_id,
        )
    return added


def remove_role(
    session: Session,
    person_id: int,
    class_id: int | None,
    role: str,
    now: datetime,
    *,
    actor_id: int | None,
    actor_name: str,
) -> bool:
    """Remove one role (in one class); the last director cannot be removed."""
    person = people.person_info(session, person_id)
    if person is None:
        raise StaffError("stale_button")
    if role == "director" and staff.count_with_role(session, "director") <= 1:
        raise StaffError("st_staff_last_director")
    removed = staff.remove_membership(session, person_id, class_id, role)
    if removed:
        staff.add_audit(
            session,
            now,
            actor_id=actor_id,
            actor_name=actor_name,
            action="remove_role",
            target_id=person_id,
            target_name=person.display_name,
            class_id=class_id,
            detail=role,
        )
    return removed


def invite_replies(
    lang: str,
    created: CreatedInvite,
    role: str,
    class_name: str | None,
    school_name: str,
    channel: str,
) -> list[Reply]:
    """The invite as a staff member receives it: links, the QR code (as an image where the
    channel sends files; its path in a terminal; a note elsewhere), a text to forward."""
    who = role_name(lang, role) + (f", {class_name}" if class_name else "")
    links = t(
        lang,
        "st_invite_links",
        who=who,
        code=created.code,
        telegram=created.telegram_link,
        viber=created.viber_link,
    )
    if created.notes:
        links += "\n" + "\n".join(f"⚠️ {n}" for n in created.notes)
    can = capabilities(channel)
    if created.qr_path is None:  # no link works yet: no QR code to show (see the notes)
        qr = Reply(t(lang, "st_invite_qr_elsewhere"))
    elif can.sends_files:
        qr = Reply(
            t(lang, "st_invite_qr"),
            file=OutFile(str(created.qr_path), created.qr_path.name, "image/png"),
        )
    elif can.local:
        qr = Reply(
            f"{t(lang, 'st_invite_qr')}\n{created.qr_path}",
            file=OutFile(str(created.qr_path), created.qr_path.name, "image/png"),
        )
    else:
        qr = Reply(t(lang, "st_invite_qr_elsewhere"))
    forward = t(
        lang,
        "st_invite_forward" if role in FAMILY_ROLES else "st_invite_forward_staff",
        who=who,
        school=school_name,
        klass=class_name or school_name,
        telegram=created.telegram_link,
        viber=created.viber_link,
    )
    return [Reply(links), qr, Reply(forward)]


def audit_lines(entries: list[AuditEntry], tz: object) -> list[str]:
    """The audit log as lines for the CLI."""
    lines = []
    for e in entries:
        when = e.at.astimezone(tz).strftime("%Y-%m-%d %H:%M")  # type: ignore[arg-type]
        parts = [when, e.actor_name or "-", e.action]
        if e.target_name:
            parts.append(e.target_name)
        if e.class_name:
            parts.append(e.class_name)
        if e.wave_id is not None:
            parts.append(f"wave {e.wave_id}")
        if e.detail:
            parts.append(e.detail)
        lines.append("  ".join(parts))
    return lines


def queue_nudge(
    session: Session, wave: WaveInfo, class_id: int, settings: Settings, now: datetime, actor: str
) -> int:
    """`nudge_class` from the CLI: the reminders queued straight to every reachable account
    (the chat queues them with the event's replies instead). Returns the people reminded."""
    outgoing = nudge_class(session, wave, class_id, settings, now, actor_id=None, actor_name=actor)
    messages = [m for out in outgoing for m in outgoing_messages(session, out, out.key)]
    enqueue_many(session, messages, now)
    return len(outgoing)
