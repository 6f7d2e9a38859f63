"""Appliers of the joining effects: register, add a class, forget, language."""

from __future__ import annotations

from bot.conversation.effects import EffectContext, EffectFailed
from bot.engine.core import AddMembership, Forget, Register, SetLanguage
from storage.repositories import invites, people


def register(effect: Register, ctx: EffectContext) -> None:
    info = invites.lookup_invite(ctx.session, effect.invite_code, ctx.now)
    if info.status != "ok" or not invites.consume_invite(ctx.session, effect.invite_code):
        raise EffectFailed(f"invite_{info.status if info.status != 'ok' else 'used_up'}")
    person_id = people.register(
        ctx.session, ctx.channel, ctx.external_id, effect.display_name, effect.language, ctx.now
    )
    people.add_membership(ctx.session, person_id, info.class_id, info.role)
    ctx.person_id = person_id


def add_membership(effect: AddMembership, ctx: EffectContext) -> None:
    info = invites.lookup_invite(ctx.session, effect.invite_code, ctx.now)
    if ctx.person_id is None or info.status != "ok":
        raise EffectFailed(f"invite_{info.status if info.status != 'ok' else 'unknown'}")
    if people.add_membership(ctx.session, ctx.person_id, info.class_id, info.role):
        invites.consume_invite(ctx.session, effect.invite_code)


def forget(effect: Forget, ctx: EffectContext) -> None:
    if ctx.person_id is not None:
        people.forget(ctx.session, ctx.person_id)
        ctx.person_id = None


def set_language(effect: SetLanguage, ctx: EffectContext) -> None:
    if ctx.person_id is not None:
        people.set_language(ctx.session, ctx.person_id, effect.language)
