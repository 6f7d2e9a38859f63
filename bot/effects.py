"""Applying the engine's effects to storage, inside the event's transaction.

Each effect type has one applier. Flow modules with their own effects register appliers here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.engine.core import (
    AddMembership,
    Forget,
    Register,
    SaveDraft,
    Send,
    SetLanguage,
    Submit,
)
from bot.settings import Settings
from storage.repositories import invites, people, responses


@dataclass
class EffectContext:
    session: Session
    channel: str
    external_id: str
    person_id: int | None
    now: datetime
    event_key: str
    tz_today: Any  # date in the school's time zone
    outgoing: list[Send]
    settings: Settings


Applier = Callable[[Any, EffectContext], None]
APPLIERS: dict[type, Applier] = {}


def applies(effect_type: type) -> Callable[[Applier], Applier]:
    def register(fn: Applier) -> Applier:
        APPLIERS[effect_type] = fn
        return fn

    return register


class EffectFailed(Exception):
    """An effect could not be applied (e.g. an invite used up a moment ago)."""

    def __init__(self, text_key: str) -> None:
        super().__init__(text_key)
        self.text_key = text_key


def apply_effects(effects: list[Any], ctx: EffectContext) -> None:
    for effect in effects:
        APPLIERS[type(effect)](effect, ctx)


@applies(Register)
def _register(effect: Register, ctx: EffectContext) -> None:
    info = invites.lookup_invite(ctx.session, effect.invite_code, ctx.now)
    if info.status != "ok" or not invites.consume_invite(ctx.session, effect.invite_code):
        raise EffectFailed(f"invite_{info.status if info.status != 'ok' else 'used_up'}")
    person_id = people.register(
        ctx.session, ctx.channel, ctx.external_id, effect.display_name, effect.language, ctx.now
    )
    people.add_membership(ctx.session, person_id, info.class_id, info.role)
    ctx.person_id = person_id


@applies(AddMembership)
def _add_membership(effect: AddMembership, ctx: EffectContext) -> None:
    info = invites.lookup_invite(ctx.session, effect.invite_code, ctx.now)
    if ctx.person_id is None or info.status != "ok":
        raise EffectFailed(f"invite_{info.status if info.status != 'ok' else 'unknown'}")
    if people.add_membership(ctx.session, ctx.person_id, info.class_id, info.role):
        invites.consume_invite(ctx.session, effect.invite_code)


@applies(SaveDraft)
def _save_draft(effect: SaveDraft, ctx: EffectContext) -> None:
    assert ctx.person_id is not None
    responses.save_draft(
        ctx.session,
        effect.wave_id,
        ctx.person_id,
        effect.class_id,
        effect.answers,
        effect.position,
        ctx.now,
    )


@applies(Submit)
def _submit(effect: Submit, ctx: EffectContext) -> None:
    assert ctx.person_id is not None
    stored = responses.submit(
        ctx.session,
        survey_id=effect.survey_id,
        wave_id=effect.wave_id,
        person_id=ctx.person_id,
        class_id=effect.class_id,
        role=effect.role,
        answers=effect.answers,
    )
    if not stored:
        raise EffectFailed("survey_done_already")


@applies(Forget)
def _forget(effect: Forget, ctx: EffectContext) -> None:
    if ctx.person_id is not None:
        people.forget(ctx.session, ctx.person_id)
        ctx.person_id = None


@applies(SetLanguage)
def _set_language(effect: SetLanguage, ctx: EffectContext) -> None:
    if ctx.person_id is not None:
        people.set_language(ctx.session, ctx.person_id, effect.language)


@applies(Send)
def _send(effect: Send, ctx: EffectContext) -> None:
    ctx.outgoing.append(effect)
