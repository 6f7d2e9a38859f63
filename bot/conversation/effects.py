"""Applying the engine's effects to storage, inside the event's transaction.

Each effect type has one applier, named in the routing table (bot/routes.py, APPLIERS); the
appliers live with their feature (bot/members/effects.py, bot/surveys/effects.py, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.engine.core import Send
from bot.engine.events import Outgoing, Reply
from bot.files.inbound import FetchFile
from bot.settings import Settings
from storage.db import Database
from storage.repositories import people
from storage.repositories.outbox import NewMessage


@dataclass(frozen=True)
class Job:
    """Work an effect leaves for after the event's commit (it opens its own transactions):
    `run(db, settings, now)` returns the replies for the person of the event. A slow job (a
    report) runs in the background for channels delivered through the outbox, so that nobody
    waits for it; it must be idempotent, as it may run again after a crash."""

    run: Callable[[Database, Settings, datetime], list[Reply]]
    slow: bool = False


@dataclass
class EffectContext:
    session: Session
    channel: str
    external_id: str
    person_id: int | None
    now: datetime
    event_key: str
    outgoing: list[Send]
    settings: Settings
    jobs: list[Job] = field(default_factory=list)
    # How this process fetches the files people send, per channel (bot/files/inbound.py).
    file_sources: Mapping[str, FetchFile] = field(default_factory=dict)


def reply_message(
    channel: str,
    recipient: str,
    reply: Reply,
    key: str,
    person_id: int | None,
    kind: str = "reply",
    sensitive: bool = False,
) -> NewMessage:
    """A reply to one chat, as an outbox row (sent once per `key`)."""
    return NewMessage(
        channel=channel,
        recipient=recipient,
        payload={"reply": reply.to_json()},
        idempotency_key=key,
        person_id=person_id,
        kind=kind,
        urgent=True,
        sensitive=sensitive,
    )


Applier = Callable[[Any, EffectContext], None]
# Work on files people sent that a stop or a crash left stored, taken up once the channel can
# fetch its files again: (db, settings, channel, fetch, now) -> how many were taken up.
Resumer = Callable[[Database, Settings, str, FetchFile, datetime], int]


class EffectFailed(Exception):
    """An effect could not be applied (e.g. an invite used up a moment ago)."""

    def __init__(self, text_key: str) -> None:
        super().__init__(text_key)
        self.text_key = text_key


def apply_effects(effects: list[Any], ctx: EffectContext, appliers: Mapping[type, Applier]) -> None:
    for effect in effects:
        appliers[type(effect)](effect, ctx)


def send(effect: Send, ctx: EffectContext) -> None:
    """A message to another person: queued with the event's replies (ChatService)."""
    ctx.outgoing.append(effect)


def outgoing_messages(session: Session, out: Outgoing, key: str) -> list[NewMessage]:
    """One outbox row per reachable messenger account of the person `out` is for."""
    return [
        NewMessage(
            channel=channel,
            recipient=external_id,
            payload={"reply": out.reply.to_json()},
            idempotency_key=f"{key}:{channel}:{external_id}",
            person_id=out.person_id,
            kind=out.kind,
            urgent=out.urgent,
        )
        for channel, external_id in people.reachable_identities(session, out.person_id)
    ]
