"""Class groups: `/bind 7-А`, `/unbind`, removal, and survey invitations posted to groups.

Channel-agnostic: an adapter turns a group update into a `GroupEvent` and calls
`process_group_event`; the reply is queued in the outbox in the same transaction. Nothing is
ever collected in a group: invitations carry a URL button that opens the private chat.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from bot.engine.events import Button, GroupEvent, Reply
from bot.texts import LANGUAGES, t
from storage.db import Database
from storage.repositories import conversations, people, school
from storage.repositories import groups as repo
from storage.repositories.outbox import NewMessage, enqueue_many
from storage.repositories.waves import WaveInfo

BIND_ROLES = ("teacher", "class_teacher")


def deep_link_argument(wave_id: int) -> str:
    return f"w{wave_id}"


def process_group_event(
    db: Database, event: GroupEvent, now: datetime, school_name: str, default_lang: str = "uk"
) -> list[Reply]:
    """One transaction: dedupe, apply, queue the reply for the group. Returns the replies."""
    key = event.event_id or uuid.uuid4().hex
    with db.write() as session:
        if event.event_id and not conversations.first_delivery(
            session, event.channel, event.event_id, now
        ):
            return []
        replies = handle_group_event(session, event, now, school_name, default_lang)
        enqueue_many(
            session,
            [
                NewMessage(
                    channel=event.channel,
                    recipient=event.chat_id,
                    payload={"reply": reply.to_json()},
                    idempotency_key=f"g:{event.channel}:{event.chat_id}:{key}:{i}",
                    kind="group",
                    urgent=True,
                )
                for i, reply in enumerate(replies)
            ],
            now,
        )
        return replies


def handle_group_event(
    session: Session, event: GroupEvent, now: datetime, school_name: str, default_lang: str = "uk"
) -> list[Reply]:
    person = (
        people.person_for_identity(session, event.channel, event.user_id) if event.user_id else None
    )
    lang = _language(person, event.language_code, default_lang)
    if event.kind == "removed":
        repo.unbind(session, event.channel, event.chat_id)
        return []
    if event.kind == "migrated":  # a group became a supergroup: its binding moves along
        repo.migrate_chat(session, event.channel, event.chat_id, event.argument)
        return []
    if event.kind == "added":
        return [Reply(t(lang, "group_hello", school=school_name))]
    if event.kind == "bind":
        return [Reply(_bind(session, event, person, lang, now))]
    if event.kind == "unbind":
        return [Reply(_unbind(session, event, person, lang))]
    return []


def _language(person: people.PersonInfo | None, language_code: str, default: str) -> str:
    if person is not None and person.language in LANGUAGES:
        return person.language
    if language_code.startswith("en"):
        return "en"
    return default if default in LANGUAGES else "uk"


def may_manage(person: people.PersonInfo, class_id: int) -> bool:
    """A teacher of the class, or the director/admin."""
    return person.is_school_wide or class_id in person.class_ids(BIND_ROLES)


def _bind(
    session: Session,
    event: GroupEvent,
    person: people.PersonInfo | None,
    lang: str,
    now: datetime,
) -> str:
    name = event.argument.strip()[:40]
    if not name:
        return t(lang, "group_bind_usage")
    if person is None:
        return t(lang, "group_not_registered")
    klass = school.class_by_name(session, name)
    if klass is None:
        return t(lang, "group_unknown_class", klass=name)
    if not may_manage(person, klass.id):
        return t(lang, "group_refused", klass=klass.name)
    if not repo.bind(session, event.channel, event.chat_id, klass.id, person.id, now):
        return t(lang, "group_already_bound", klass=klass.name)
    return t(lang, "group_bound", klass=klass.name)


def _unbind(
    session: Session, event: GroupEvent, person: people.PersonInfo | None, lang: str
) -> str:
    current = repo.binding(session, event.channel, event.chat_id)
    if current is None:
        return t(lang, "group_not_bound")
    if person is None:
        return t(lang, "group_not_registered")
    if not may_manage(person, current.class_id):
        return t(lang, "group_refused", klass=current.class_name)
    repo.unbind(session, event.channel, event.chat_id)
    return t(lang, "group_unbound", klass=current.class_name)


def queue_group_invitations(
    session: Session, wave: WaveInfo, deep_link_base: str, now: datetime, lang: str = "uk"
) -> int:
    """Queue one non-urgent invitation per group bound to a class of `wave`. Idempotent.

    `deep_link_base` is the bot's chat link, e.g. `https://t.me/classpulse_bot`
    (`telegram_chat_link(username)`, bot/channels/capabilities.py); the button opens
    `...?start=w<wave id>`.
    Call it in the transaction that opens the wave. Returns how many were queued.
    """
    url = f"{deep_link_base.rstrip('/')}?start={deep_link_argument(wave.id)}"
    messages = [
        NewMessage(
            channel=binding.channel,
            recipient=binding.chat_id,
            payload={
                "reply": Reply(
                    t(lang, "group_invitation", klass=binding.class_name, title=wave.title),
                    buttons=((Button(t(lang, "btn_start_survey"), url=url),),),
                ).to_json()
            },
            idempotency_key=f"gi:{wave.id}:{binding.channel}:{binding.chat_id}",
            kind="invitation",
            urgent=False,
        )
        for binding in repo.bindings_for_classes(session, list(wave.class_ids))
    ]
    return enqueue_many(session, messages, now)
