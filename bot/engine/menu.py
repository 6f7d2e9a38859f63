"""The main menu, help, language, `/forget`, `/cancel`, and what to do with unexpected input."""

from __future__ import annotations

from bot.engine.core import (
    FALLBACKS,
    MENU_PROVIDERS,
    Ctx,
    Forget,
    SetLanguage,
    Step,
    command,
    menu_item,
    mode_input,
    payload,
)
from bot.events import Button
from bot.payloads import encode
from bot.texts import LANGUAGES


def menu_buttons(ctx: Ctx) -> tuple[tuple[Button, ...], ...]:
    rows: list[tuple[Button, ...]] = []
    for open_wave in ctx.world.open_waves():
        wave = open_wave.wave
        key = "btn_survey_resume" if ctx.world.draft(wave.id) else "btn_survey"
        rows.append((Button(ctx.t(key, title=wave.title), encode("s", wave.id)),))
    for provider in MENU_PROVIDERS:
        rows.extend((b,) for b in provider(ctx))
    rows.append(
        (
            Button(ctx.t("btn_help"), encode("m", "help")),
            Button(ctx.t("btn_language"), encode("m", "lang")),
        )
    )
    rows.append((Button(ctx.t("btn_forget"), encode("m", "forget")),))
    return tuple(rows)


def menu_step(ctx: Ctx, prefix: str = "") -> Step:
    """The menu, for a registered person; the how-to-join text otherwise."""
    if ctx.person is None:
        return FALLBACKS["not_registered"](ctx)
    has_surveys = bool(ctx.world.open_waves())
    text = ctx.t("menu_title") if has_surveys else ctx.t("menu_no_surveys")
    if prefix:
        text = f"{prefix}\n\n{text}"
    return ctx.step(ctx.state.to("idle")).say(text, menu_buttons(ctx))


@command("menu", "surveys")
def menu(ctx: Ctx) -> Step:
    return menu_step(ctx)


@command("help")
def help_command(ctx: Ctx) -> Step:
    return ctx.step().say(ctx.t("help"))


@menu_item("help")
def help_item(ctx: Ctx) -> Step:
    return help_command(ctx)


@command("language")
def language(ctx: Ctx) -> Step:
    buttons = (
        (Button("🇺🇦 Українська", encode("l", "uk")), Button("🇬🇧 English", encode("l", "en"))),
    )
    return ctx.step().say(ctx.t("choose_language"), buttons)


@menu_item("lang")
def language_item(ctx: Ctx) -> Step:
    return language(ctx)


@payload("l")
def set_language(ctx: Ctx) -> Step:
    assert ctx.payload is not None
    lang = ctx.payload.str_arg(0)
    if lang not in LANGUAGES:
        return FALLBACKS["bad_button"](ctx)
    from dataclasses import replace

    state = replace(ctx.state, lang=lang)
    ctx.state = state
    step = ctx.step(state).say(ctx.t("language_set"))
    if ctx.person is not None:
        step.effects.append(SetLanguage(lang))
    return step


@command("forget")
def forget(ctx: Ctx) -> Step:
    buttons = (
        (Button(ctx.t("btn_forget_yes"), encode("f", "y")),),
        (Button(ctx.t("btn_cancel"), encode("f", "n")),),
    )
    return ctx.step(ctx.state.to("forget")).say(ctx.t("forget_confirm"), buttons)


@menu_item("forget")
def forget_item(ctx: Ctx) -> Step:
    return forget(ctx)


@payload("f")
def forget_answer(ctx: Ctx) -> Step:
    assert ctx.payload is not None
    if ctx.state.mode != "forget":
        return FALLBACKS["stale"](ctx)
    if ctx.payload.str_arg(0) != "y":
        return menu_step(ctx, prefix=ctx.t("cancelled"))
    # Nothing of the conversation is kept either, not even its language.
    step = ctx.step(type(ctx.state)()).say(ctx.t("forgotten"))
    step.effects.append(Forget())
    return step


@command("cancel")
def cancel(ctx: Ctx) -> Step:
    if ctx.person is None:
        return ctx.step(ctx.state.to("idle")).say(ctx.t("cancelled"))
    return menu_step(ctx, prefix=ctx.t("cancelled"))


@payload("m")
def menu_press(ctx: Ctx) -> Step:
    from bot.engine.core import MENU_ITEMS

    assert ctx.payload is not None
    handler = MENU_ITEMS.get(ctx.payload.str_arg(0))
    if handler is None:
        return FALLBACKS["bad_button"](ctx)
    if ctx.person is None and ctx.payload.str_arg(0) not in {"help", "lang"}:
        return FALLBACKS["not_registered"](ctx)
    return handler(ctx)


@mode_input("forget")
def forget_input(ctx: Ctx) -> Step:
    return forget(ctx)


def _not_registered(ctx: Ctx) -> Step:
    from bot.engine.registration import code_as_text

    joined = code_as_text(ctx)
    if joined is not None:
        return joined
    return ctx.step(ctx.state.to("idle")).say(ctx.t("not_registered"))


def _bad_button(ctx: Ctx) -> Step:
    if ctx.person is None:
        return _not_registered(ctx)
    return menu_step(ctx, prefix=ctx.t("bad_button"))


def _stale(ctx: Ctx) -> Step:
    if ctx.person is None:
        return ctx.step().say(ctx.t("stale_button"))
    return menu_step(ctx, prefix=ctx.t("stale_button"))


def _idle_input(ctx: Ctx) -> Step:
    if ctx.person is None:
        return _not_registered(ctx)
    if ctx.event.file is not None:
        return menu_step(ctx, prefix=ctx.t("file_not_expected"))
    return menu_step(ctx)


FALLBACKS.update(
    not_registered=_not_registered, bad_button=_bad_button, stale=_stale, idle_input=_idle_input
)
