"""The main menu, help, language, `/forget`, `/cancel`, and what to do with unexpected input."""

from __future__ import annotations

from dataclasses import replace

from bot.engine.buttons import ButtonKind, encode
from bot.engine.core import Ctx, Forget, SetLanguage, Step
from bot.engine.events import Button
from bot.texts import LANGUAGES


def menu_buttons(ctx: Ctx) -> tuple[tuple[Button, ...], ...]:
    rows: list[tuple[Button, ...]] = []
    for open_wave in ctx.world.open_waves():
        wave = open_wave.wave
        key = "btn_survey_resume" if ctx.world.draft(wave.id) else "btn_survey"
        rows.append(
            (Button(ctx.t(key, title=wave.title), encode(ButtonKind.START_SURVEY, wave.id)),)
        )
    for provider in ctx.routes.menu_providers:
        rows.extend((b,) for b in provider(ctx))
    rows.append(
        (
            Button(ctx.t("btn_help"), encode(ButtonKind.MENU, "help")),
            Button(ctx.t("btn_language"), encode(ButtonKind.MENU, "lang")),
        )
    )
    rows.append((Button(ctx.t("btn_forget"), encode(ButtonKind.MENU, "forget")),))
    return tuple(rows)


def menu_step(ctx: Ctx, prefix: str = "") -> Step:
    """The menu, for a registered person; the how-to-join text otherwise."""
    if ctx.person is None:
        return ctx.fallback("not_registered")
    has_surveys = bool(ctx.world.open_waves())
    text = ctx.t("menu_title") if has_surveys else ctx.t("menu_no_surveys")
    if prefix:
        text = f"{prefix}\n\n{text}"
    return ctx.step(ctx.state.to("idle")).say(text, menu_buttons(ctx))


def menu(ctx: Ctx) -> Step:
    return menu_step(ctx)


def help_command(ctx: Ctx) -> Step:
    return ctx.step().say(ctx.t("help"))


def help_item(ctx: Ctx) -> Step:
    return help_command(ctx)


def language(ctx: Ctx) -> Step:
    buttons = (
        (
            Button("🇺🇦 Українська", encode(ButtonKind.LANGUAGE, "uk")),
            Button("🇬🇧 English", encode(ButtonKind.LANGUAGE, "en")),
        ),
    )
    return ctx.step().say(ctx.t("choose_language"), buttons)


def language_item(ctx: Ctx) -> Step:
    return language(ctx)


def set_language(ctx: Ctx) -> Step:
    assert ctx.payload is not None
    lang = ctx.payload.str_arg(0)
    if lang not in LANGUAGES:
        return ctx.fallback("bad_button")
    state = replace(ctx.state, lang=lang)
    ctx.state = state
    step = ctx.step(state).say(ctx.t("language_set"))
    if ctx.person is not None:
        step.effects.append(SetLanguage(lang))
    return step


def forget(ctx: Ctx) -> Step:
    buttons = (
        (Button(ctx.t("btn_forget_yes"), encode(ButtonKind.FORGET, "y")),),
        (Button(ctx.t("btn_cancel"), encode(ButtonKind.FORGET, "n")),),
    )
    return ctx.step(ctx.state.to("forget")).say(ctx.t("forget_confirm"), buttons)


def forget_item(ctx: Ctx) -> Step:
    return forget(ctx)


def forget_answer(ctx: Ctx) -> Step:
    assert ctx.payload is not None
    if ctx.state.mode != "forget":
        return ctx.fallback("stale")
    if ctx.payload.str_arg(0) != "y":
        return menu_step(ctx, ctx.t("cancelled"))
    # Nothing of the conversation is kept either, not even its language.
    step = ctx.step(type(ctx.state)()).say(ctx.t("forgotten"))
    step.effects.append(Forget())
    return step


def cancel(ctx: Ctx) -> Step:
    if ctx.person is None:
        return ctx.step(ctx.state.to("idle")).say(ctx.t("cancelled"))
    return menu_step(ctx, ctx.t("cancelled"))


def menu_press(ctx: Ctx) -> Step:
    assert ctx.payload is not None
    handler = ctx.routes.menu_items.get(ctx.payload.str_arg(0))
    if handler is None:
        return ctx.fallback("bad_button")
    if ctx.person is None and ctx.payload.str_arg(0) not in {"help", "lang"}:
        return ctx.fallback("not_registered")
    return handler(ctx)


def forget_input(ctx: Ctx) -> Step:
    return forget(ctx)


def bad_button(ctx: Ctx) -> Step:
    if ctx.person is None:
        return ctx.fallback("not_registered")
    return menu_step(ctx, ctx.t("bad_button"))


def stale(ctx: Ctx) -> Step:
    if ctx.person is None:
        return ctx.step().say(ctx.t("stale_button"))
    return menu_step(ctx, ctx.t("stale_button"))


def idle_input(ctx: Ctx) -> Step:
    if ctx.person is None:
        return ctx.fallback("not_registered")
    if ctx.event.file is not None:
        return menu_step(ctx, ctx.t("file_not_expected"))
    return menu_step(ctx)
