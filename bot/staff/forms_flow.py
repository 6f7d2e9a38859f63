"""/staff → "📥 Імпорт з Google Forms": last year's export sent in chat, imported as an earlier
wave (the CLI's `classpulse import-forms FILE --survey ID [--wave LABEL]`).

The questionnaire (buttons), then the wave's name (the default, as the CLI's: the school year
of the file's timestamps), then the file. The file comes last so that its messenger reference
is never kept in the conversation's stored state: it goes straight into the `ImportForms`
effect, which stores it as an import request until answered; its job
(bot/staff/forms_effects.py) fetches, imports and deletes the file.

Pure like every flow; who may is the permission table's "import_forms".
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.engine.buttons import ButtonKind, encode
from bot.engine.core import Ctx, Step
from bot.engine.events import Button, EventKind
from bot.staff.flows import allowed, button_label, refuse, staff_view

MODE = "st_forms"
ACTION = "import_forms"
MAX_FILE_MB = 20  # what a Forms export of a whole school stays far below (and Bot API's limit)
MAX_FILE_BYTES = MAX_FILE_MB * 1024 * 1024
MAX_WAVE_LABEL = 40
SUFFIXES = (".csv", ".xlsx")


@dataclass(frozen=True)
class ImportForms:
    """Fetch the sent file through the event's channel and import it (after the commit)."""

    slug: str
    wave: str | None  # None: the school year of the file's timestamps
    name: str
    size: int
    ref: str  # the channel's reference of the file; kept only in its import request


def _cancel_row(ctx: Ctx) -> tuple[Button, ...]:
    return (Button(ctx.t("btn_cancel"), encode(ButtonKind.FORMS, "cancel", 0)),)


def start(ctx: Ctx) -> Step:
    """The questionnaires as buttons."""
    if ctx.person is None or not allowed(ctx, ACTION):
        return refuse(ctx, ACTION)
    rows: list[tuple[Button, ...]] = [
        (Button(button_label(title), encode(ButtonKind.FORMS, "survey", i)),)
        for i, (_, title) in enumerate(staff_view(ctx).surveys())
    ]
    if not rows:
        return ctx.step(ctx.state.to("idle")).say(ctx.t("st_forms_no_surveys"))
    rows.append(_cancel_row(ctx))
    return ctx.step(ctx.state.to(MODE, stage="survey")).say(ctx.t("st_forms_choose"), tuple(rows))


def _ask_file(ctx: Ctx, slug: str, title: str, wave: str | None) -> Step:
    shown = wave if wave else ctx.t("st_forms_wave_default")
    return ctx.step(ctx.state.to(MODE, stage="file", slug=slug, title=title, wave=wave)).say(
        ctx.t("st_forms_send_file", title=title, wave=shown, mb=MAX_FILE_MB),
        (_cancel_row(ctx),),
    )


def pressed(ctx: Ctx) -> Step:
    """A questionnaire, the default wave name, or cancel."""
    assert ctx.payload is not None
    word, index = ctx.payload.str_arg(0), ctx.payload.int_arg(1)
    if word == "start":
        return start(ctx)
    if ctx.person is None or not allowed(ctx, ACTION):
        return refuse(ctx, ACTION)
    if word == "cancel":
        return ctx.menu(ctx.t("cancelled"))
    data = ctx.state.data if ctx.state.mode == MODE else {}
    if word == "survey" and data.get("stage") == "survey":
        surveys = staff_view(ctx).surveys()
        if index >= len(surveys):
            return ctx.fallback("bad_button")
        slug, title = surveys[index]
        buttons = (
            (Button(ctx.t("btn_st_forms_default"), encode(ButtonKind.FORMS, "default", 0)),),
            _cancel_row(ctx),
        )
        return ctx.step(ctx.state.to(MODE, stage="wave", slug=slug, title=title)).say(
            ctx.t("st_forms_wave", title=title, limit=MAX_WAVE_LABEL), buttons
        )
    if word == "default" and data.get("stage") == "wave":
        return _ask_file(ctx, str(data["slug"]), str(data["title"]), None)
    return ctx.fallback("stale")


def _file_refusal(ctx: Ctx) -> str | None:
    """Why the sent file is not one to import, or None."""
    file = ctx.event.file
    assert file is not None
    if not file.name.lower().endswith(SUFFIXES):
        return ctx.t("st_forms_not_csv", name=file.name)
    if file.size > MAX_FILE_BYTES:
        return ctx.t("st_forms_too_big", name=file.name, mb=MAX_FILE_MB)
    return None


def typed(ctx: Ctx) -> Step:
    """Text or a file while importing: the wave's name, or the file; anything else keeps the
    step with a hint."""
    if ctx.person is None or not allowed(ctx, ACTION):
        return refuse(ctx, ACTION)
    data = ctx.state.data
    stage = data.get("stage")
    file = ctx.event.file if ctx.event.kind is EventKind.FILE else None
    if stage == "wave":
        label = " ".join(ctx.event.text.split()) if ctx.event.kind is EventKind.TEXT else ""
        if not label or len(label) > MAX_WAVE_LABEL:
            return ctx.step().say(ctx.t("st_forms_wave_bad", limit=MAX_WAVE_LABEL))
        return _ask_file(ctx, str(data["slug"]), str(data["title"]), label)
    if stage == "file":
        if file is None:
            return ctx.step().say(ctx.t("st_forms_need_file"), (_cancel_row(ctx),))
        refusal = _file_refusal(ctx)
        if refusal:
            return ctx.step().say(refusal, (_cancel_row(ctx),))
        wave = data.get("wave")
        step = ctx.step(ctx.state.to("idle")).say(
            ctx.t("st_forms_importing", name=file.name, title=str(data["title"]))
        )
        step.effects.append(
            ImportForms(
                str(data["slug"]), str(wave) if wave else None, file.name, file.size, file.ref
            )
        )
        return step
    return ctx.step().say(ctx.t("st_use_buttons"))
