"""Joining: `/start CODE` (or the code typed as text), the data notice and consent."""

from __future__ import annotations

import re

from bot.engine.buttons import ButtonKind, encode
from bot.engine.core import AddMembership, Ctx, Register, Step
from bot.engine.events import Button, EventKind, Reply
from bot.texts import role_name
from storage.records import looks_like_code


def _klass(ctx: Ctx, class_name: str) -> str:
    return ctx.t("in_class", klass=class_name) if class_name else ""


WAVE_LINK = re.compile(r"^w(\d{1,9})$")


def start(ctx: Ctx) -> Step:
    argument = ctx.event.argument.strip()
    wave_link = WAVE_LINK.match(argument)
    if wave_link and ctx.person is not None:
        # A group invitation's deep link (`?start=w12`): straight into that survey.
        return ctx.press(ButtonKind.START_SURVEY, int(wave_link.group(1)))
    if argument and (looks_like_code(argument) or (ctx.person is None and not wave_link)):
        return _use_code(ctx, argument)
    if ctx.person is None:
        return ctx.step(ctx.state.to("idle")).say(
            ctx.t("how_to_join", school=ctx.world.school_name)
        )
    return ctx.menu()


def _use_code(ctx: Ctx, code: str) -> Step:
    invite = ctx.world.invite(code)
    if invite.status != "ok":
        return ctx.step(ctx.state.to("idle")).say(ctx.t(f"invite_{invite.status}"))
    role, klass = role_name(ctx.lang, invite.role), _klass(ctx, invite.class_name)
    person = ctx.person
    if person is not None:
        if any(m.class_id == invite.class_id and m.role == invite.role for m in person.memberships):
            step = ctx.step(ctx.state.to("idle")).say(
                ctx.t("already_member", role=role, klass=klass)
            )
        else:
            step = ctx.step(ctx.state.to("idle")).say(
                ctx.t("membership_added", role=role, klass=klass)
            )
            step.effects.append(AddMembership(invite.code))
        return _then_menu(step)
    buttons = (
        (Button(ctx.t("btn_agree"), encode(ButtonKind.CONSENT, "y")),),
        (Button(ctx.t("btn_disagree"), encode(ButtonKind.CONSENT, "n")),),
    )
    return ctx.step(ctx.state.to("consent", code=invite.code)).say(
        ctx.t("data_notice", school=ctx.world.school_name, role=role, klass=klass), buttons
    )


def consent(ctx: Ctx) -> Step:
    assert ctx.payload is not None
    code = ctx.state.data.get("code")
    if ctx.state.mode != "consent" or not isinstance(code, str):
        return ctx.fallback("stale")
    if ctx.payload.str_arg(0) != "y":
        step = ctx.step(ctx.state.to("idle"))
        step.replies.extend(_close_consent(ctx, "consent_no"))
        return step.say(ctx.t("consent_declined"))
    invite = ctx.world.invite(code)  # checked again: it may have expired meanwhile
    if invite.status != "ok":
        return ctx.step(ctx.state.to("idle")).say(ctx.t(f"invite_{invite.status}"))
    step = ctx.step(ctx.state.to("idle"))
    step.replies.extend(_close_consent(ctx, "consent_yes"))
    step.say(
        ctx.t(
            "registered",
            role=role_name(ctx.lang, invite.role),
            klass=_klass(ctx, invite.class_name),
        )
    )
    step.effects.append(Register(invite.code, ctx.event.display_name, ctx.lang))
    return _then_menu(step)


def _close_consent(ctx: Ctx, key: str) -> list[Reply]:
    """Replace the consent question with the answer, so its buttons cannot be pressed again."""
    if not ctx.event.message_ref:
        return []
    return [Reply(text=ctx.t(key), edit_ref=ctx.event.message_ref)]


def _then_menu(step: Step) -> Step:
    """Show the menu once the effects are stored, so it lists the new class's surveys."""
    step.follow_up = "menu"
    return step


def consent_input(ctx: Ctx) -> Step:
    """Text while the consent question is open: a new code restarts, anything else re-asks."""
    text = ctx.event.text.strip()
    if ctx.event.kind is EventKind.TEXT and looks_like_code(text):
        return _use_code(ctx, text)
    code = str(ctx.state.data.get("code", ""))
    return _use_code(ctx, code)


def code_as_text(ctx: Ctx) -> Step | None:
    """An unregistered user who types an invite code joins as with `/start CODE`."""
    text = ctx.event.text.strip()
    if ctx.event.kind is EventKind.TEXT and looks_like_code(text):
        return _use_code(ctx, text)
    return None


def not_registered(ctx: Ctx) -> Step:
    """Anything from someone who has not joined: a typed invite code joins, else how to join."""
    joined = code_as_text(ctx)
    if joined is not None:
        return joined
    return ctx.step(ctx.state.to("idle")).say(ctx.t("not_registered"))
