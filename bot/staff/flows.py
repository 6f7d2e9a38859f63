"""Staff work in chat: `/report`, `/rates` (and the nudge), `/survey`, `/invite`, `/staff`.

Pure like every flow: reads go through the world's `staff` view (`StaffView`, read from the
database by bot/staff/reader.py); who may do what is one table (bot/staff/permissions.py),
checked on every command and every button press; the effects' appliers are in
bot/staff/effects.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol, cast

from bot.engine.buttons import ButtonKind, encode
from bot.engine.core import Ctx, Step, World
from bot.engine.events import Button, EventKind, Reply
from bot.staff.permissions import (
    COMMANDS,
    allowed_roles,
    class_scope,
    may_act_on_class,
    scope_of,
)
from bot.texts import role_name
from storage.records import FAMILY_ROLES, ROLES, AuditEntry, StaffMember, WaveInfo, WaveRates

NUDGE_EVERY = timedelta(hours=24)
BAR_WIDTH = 10
MAX_WAVES = 8
CLOSE_DAYS = (3, 7, 14)
INVITE_ROLES = ROLES  # the index of a role in an invite button
SURVEY_MODE = "st_survey"
CLASSES_MODE = "st_classes"  # waiting for the names of new classes
MAX_NEW_CLASSES = 40  # in one message: a whole school's worth, not a pasted document
MAX_BUTTON_LABEL = 60


# ---------------------------------------------------------------- effects
@dataclass(frozen=True)
class RequestReport:
    wave_id: int | None  # None: every questionnaire at once
    class_id: int | None


@dataclass(frozen=True)
class Nudge:
    wave_id: int
    class_id: int


@dataclass(frozen=True)
class MakeInvite:
    class_id: int | None
    role: str


@dataclass(frozen=True)
class OpenSurvey:
    slug: str
    class_ids: tuple[int, ...]
    close_days: int


@dataclass(frozen=True)
class CloseSurvey:
    wave_id: int


@dataclass(frozen=True)
class AssignClassTeacher:
    person_id: int
    class_id: int


@dataclass(frozen=True)
class RemoveRole:
    person_id: int
    class_id: int | None
    role: str


@dataclass(frozen=True)
class AddClasses:
    """Classes as the director typed them; the effect normalises (`7 а` -> `7-А`) and checks."""

    names: tuple[str, ...]


# ---------------------------------------------------------------- the view
class StaffView(Protocol):
    """What the staff flows read."""

    def classes(self) -> list[tuple[int, str]]:
        """Every class of the school: (id, name), in `class_order` (5-А before 10-А)."""
        ...

    def report_waves(self) -> list[WaveInfo]:
        """Waves with answers to report on, latest first."""
        ...

    def rates(self, class_ids: list[int] | None) -> list[WaveRates]:
        """Open waves, with respondents against members per class and role group."""
        ...

    def last_nudge(self, wave_id: int, class_id: int) -> datetime | None: ...

    def surveys(self) -> list[tuple[str, str]]:
        """(slug, title) of every questionnaire."""
        ...

    def current_waves(self) -> list[WaveRates]:
        """Open and scheduled waves with their rates."""
        ...

    def preview(self, slug: str, class_ids: list[int]) -> dict[str, int] | None:
        """People to invite per channel; None for an unknown survey."""
        ...

    def staff(self) -> list[StaffMember]: ...

    def audit(self, limit: int) -> list[AuditEntry]:
        """The latest entries of the staff audit log, newest first."""
        ...

    def local(self, when: datetime) -> datetime:
        """A time in the school's time zone."""
        ...


class StaffWorld(World, Protocol):
    staff: StaffView


def staff_view(ctx: Ctx) -> StaffView:
    return cast(StaffWorld, ctx.world).staff


def refuse(ctx: Ctx, action: str) -> Step:
    roles = ", ".join(role_name(ctx.lang, r) for r in allowed_roles(action))
    return ctx.step(ctx.state.to("idle")).say(
        ctx.t("st_forbidden", command=COMMANDS[action], roles=roles)
    )


def allowed(ctx: Ctx, action: str) -> bool:
    return scope_of(ctx.person, action) is not None


def _class_names(ctx: Ctx) -> dict[int, str]:
    return dict(staff_view(ctx).classes())


def _date(ctx: Ctx, when: datetime) -> str:
    return staff_view(ctx).local(when).strftime("%d.%m.%Y %H:%M")


def button_label(text: str) -> str:
    return text if len(text) <= MAX_BUTTON_LABEL else text[: MAX_BUTTON_LABEL - 1] + "…"


# ---------------------------------------------------------------- menu
MENU_ITEMS = (
    ("st_report", "report", "btn_st_report"),
    ("st_rates", "rates", "btn_st_rates"),
    ("st_survey", "survey", "btn_st_survey"),
    ("st_invite", "invite", "btn_st_invite"),
    ("st_staff", "staff", "btn_st_staff"),
)


def menu_buttons(ctx: Ctx) -> list[Button]:
    return [
        Button(ctx.t(text), encode(ButtonKind.MENU, item))
        for item, action, text in MENU_ITEMS
        if allowed(ctx, action)
    ]


# ---------------------------------------------------------------- /report
def report(ctx: Ctx) -> Step:
    person = ctx.person
    if not allowed(ctx, "report") or person is None:
        return refuse(ctx, "report")
    scope = class_scope(person, "report")
    names = _class_names(ctx)
    rows: list[tuple[Button, ...]] = []
    for wave in staff_view(ctx).report_waves():
        if scope is None:
            targets: list[int] = [0]
        else:
            targets = [c for c in wave.class_ids if c in scope]
        for class_id in targets:
            klass = f" · {names.get(class_id, '?')}" if class_id else ""
            latest = ctx.t("st_latest") if not rows else ""
            label = f"{wave.title} ({wave.label}){klass}{latest}"
            rows.append(
                (Button(button_label(label), encode(ButtonKind.REPORT, wave.id, class_id)),)
            )
        if len(rows) >= MAX_WAVES:
            break
    if not rows:
        return ctx.step(ctx.state.to("idle")).say(ctx.t("st_report_none"))
    if scope is None and len({w.slug for w in staff_view(ctx).report_waves()}) > 1:
        # The school's whole review at once (the director's "довідка": every questionnaire,
        # and the gaps between teachers, students and parents), as `report --all` makes it.
        every = Button(ctx.t("btn_st_report_all"), encode(ButtonKind.REPORT, 0, 0))
        rows.insert(0, (every,))
    return ctx.step(ctx.state.to("idle")).say(ctx.t("st_report_choose"), tuple(rows))


def report_pressed(ctx: Ctx) -> Step:
    assert ctx.payload is not None
    person = ctx.person
    if person is None or not allowed(ctx, "report"):
        return refuse(ctx, "report")
    wave_id, class_id = ctx.payload.int_arg(0), ctx.payload.int_arg(1)
    if wave_id == 0:  # every questionnaire at once: whole-school staff only
        if class_id != 0 or class_scope(person, "report") is not None:
            return refuse(ctx, "report")
        step = ctx.step().say(ctx.t("st_report_preparing_all"))
        step.effects.append(RequestReport(None, None))
        return step
    wave = ctx.world.wave(wave_id)
    if wave is None:
        return ctx.fallback("stale")
    if class_id == 0:
        if class_scope(person, "report") is not None:
            return refuse(ctx, "report")
    elif not may_act_on_class(person, "report", class_id) or class_id not in wave.class_ids:
        return refuse(ctx, "report")
    step = ctx.step().say(ctx.t("st_report_preparing", title=wave.title, label=wave.label))
    step.effects.append(RequestReport(wave_id, class_id or None))
    return step


# ---------------------------------------------------------------- /rates
def _bar(done: int, total: int) -> str:
    filled = round(BAR_WIDTH * done / total) if total else 0
    return "▓" * filled + "░" * (BAR_WIDTH - filled)


def rates(ctx: Ctx) -> Step:
    person = ctx.person
    if person is None or not allowed(ctx, "rates"):
        return refuse(ctx, "rates")
    blocks = staff_view(ctx).rates(class_scope(person, "rates"))
    if not blocks:
        return ctx.step(ctx.state.to("idle")).say(ctx.t("st_rates_none"))
    step = ctx.step(ctx.state.to("idle"))
    for block in blocks:
        lines = [ctx.t("st_rates_title", title=block.wave.title, label=block.wave.label)]
        buttons: list[tuple[Button, ...]] = []
        for line in block.lines:
            who = ctx.t(f"st_group_{line.role}")
            if line.respondents is None:
                lines.append(ctx.t("st_rates_hidden", klass=line.class_name, group=who))
            else:
                lines.append(
                    ctx.t(
                        "st_rates_line",
                        klass=line.class_name,
                        group=who,
                        done=line.respondents,
                        total=line.members,
                        bar=_bar(line.respondents, line.members),
                    )
                )
        for class_name, class_id in sorted({(ln.class_name, ln.class_id) for ln in block.lines}):
            if may_act_on_class(person, "nudge", class_id):
                label = ctx.t("btn_st_nudge", klass=class_name)
                buttons.append((Button(label, encode(ButtonKind.NUDGE, block.wave.id, class_id)),))
        step.say("\n".join(lines), tuple(buttons))
    return step


def nudge(ctx: Ctx) -> Step:
    assert ctx.payload is not None
    person = ctx.person
    if person is None or not allowed(ctx, "nudge"):
        return refuse(ctx, "nudge")
    wave_id, class_id = ctx.payload.int_arg(0), ctx.payload.int_arg(1)
    if not may_act_on_class(person, "nudge", class_id):
        return refuse(ctx, "nudge")
    wave = ctx.world.wave(wave_id)
    if wave is None or class_id not in wave.class_ids:
        return ctx.fallback("stale")
    if wave.status != "open":
        return ctx.step().say(ctx.t("st_nudge_closed", title=wave.title))
    klass = _class_names(ctx).get(class_id, "?")
    last = staff_view(ctx).last_nudge(wave_id, class_id)
    if last is not None and last + NUDGE_EVERY > ctx.world.now:
        return ctx.step().say(
            ctx.t("st_nudge_too_soon", klass=klass, when=_date(ctx, last + NUDGE_EVERY))
        )
    step = ctx.step().say(
        ctx.t("st_nudge_queued", klass=klass, when=_date(ctx, ctx.world.now + NUDGE_EVERY))
    )
    step.effects.append(Nudge(wave_id, class_id))
    return step


# ---------------------------------------------------------------- /invite
def invite(ctx: Ctx) -> Step:
    person = ctx.person
    if person is None or not allowed(ctx, "invite"):
        return refuse(ctx, "invite")
    names = _class_names(ctx)
    scope = class_scope(person, "invite")
    rows: list[tuple[Button, ...]] = []
    if scope is not None:  # a class teacher: their classes, families only
        for class_id in scope:
            rows.append(
                tuple(
                    Button(
                        f"{names.get(class_id, '?')} · {role_name(ctx.lang, role)}",
                        encode(ButtonKind.INVITE, class_id, INVITE_ROLES.index(role)),
                    )
                    for role in FAMILY_ROLES
                )
            )
        return ctx.step(ctx.state.to("idle")).say(ctx.t("st_invite_choose"), tuple(rows))
    buttons = [
        Button(name, encode(ButtonKind.INVITE, class_id, len(INVITE_ROLES)))
        for class_id, name in names.items()
    ]
    rows = [tuple(buttons[i : i + 4]) for i in range(0, len(buttons), 4)]
    rows.append((Button(ctx.t("btn_st_school_wide"), encode(ButtonKind.INVITE, 0, 0)),))
    return ctx.step(ctx.state.to("idle")).say(ctx.t("st_invite_class"), tuple(rows))


def invite_pressed(ctx: Ctx) -> Step:
    assert ctx.payload is not None
    person = ctx.person
    if person is None or not allowed(ctx, "invite"):
        return refuse(ctx, "invite")
    class_id, role_index = ctx.payload.int_arg(0), ctx.payload.int_arg(1)
    names = _class_names(ctx)
    if class_id and class_id not in names:
        return ctx.fallback("stale")
    if not class_id:  # school-wide: the director's and administration's invites
        if not allowed(ctx, "invite_staff") or class_scope(person, "invite_staff") is not None:
            return refuse(ctx, "invite_staff")
        rows = tuple(
            (
                Button(
                    role_name(ctx.lang, role),
                    encode(ButtonKind.INVITE, 0, INVITE_ROLES.index(role) + 1),
                ),
            )
            for role in ("director", "admin")
        )
        if role_index == 0:
            return ctx.step().say(ctx.t("st_invite_role", klass=ctx.t("st_school")), rows)
        role = INVITE_ROLES[role_index - 1] if role_index - 1 < len(INVITE_ROLES) else ""
        if role not in ("director", "admin"):
            return ctx.fallback("bad_button")
        step = ctx.step().say(ctx.t("st_invite_making"))
        step.effects.append(MakeInvite(None, role))
        return step
    if not may_act_on_class(person, "invite", class_id):
        return refuse(ctx, "invite")
    if role_index == len(INVITE_ROLES):  # a class was chosen: now the role
        choices = [r for r in INVITE_ROLES if r not in ("director", "admin")]
        if class_scope(person, "invite_staff") is not None or not allowed(ctx, "invite_staff"):
            choices = list(FAMILY_ROLES)
        rows = tuple(
            (
                Button(
                    role_name(ctx.lang, role),
                    encode(ButtonKind.INVITE, class_id, INVITE_ROLES.index(role)),
                ),
            )
            for role in choices
        )
        return ctx.step().say(ctx.t("st_invite_role", klass=names[class_id]), rows)
    if role_index >= len(INVITE_ROLES):
        return ctx.fallback("bad_button")
    role = INVITE_ROLES[role_index]
    if role in ("director", "admin"):
        return ctx.fallback("bad_button")
    if role not in FAMILY_ROLES and not (
        allowed(ctx, "invite_staff") and may_act_on_class(person, "invite_staff", class_id)
    ):
        return refuse(ctx, "invite_staff")
    step = ctx.step().say(ctx.t("st_invite_making"))
    step.effects.append(MakeInvite(class_id, role))
    return step


# ---------------------------------------------------------------- /survey
def _rates_summary(ctx: Ctx, block: WaveRates) -> str:
    shown = [ln for ln in block.lines if ln.respondents is not None]
    done = sum(ln.respondents or 0 for ln in shown)
    total = sum(ln.members for ln in shown)
    key = "st_survey_open_line" if block.wave.status == "open" else "st_survey_sched_line"
    when = block.wave.closes_at if block.wave.status == "open" else block.wave.opens_at
    return ctx.t(
        key,
        title=block.wave.title,
        label=block.wave.label,
        done=done,
        total=total,
        when=_date(ctx, when) if when else "—",
    )


def survey(ctx: Ctx) -> Step:
    if ctx.person is None or not allowed(ctx, "survey"):
        return refuse(ctx, "survey")
    view = staff_view(ctx)
    blocks = view.current_waves()
    lines = [ctx.t("st_survey_title")]
    lines += [_rates_summary(ctx, b) for b in blocks] or [ctx.t("st_survey_no_waves")]
    rows: list[tuple[Button, ...]] = [
        (
            Button(
                button_label(ctx.t("btn_st_open", title=title)), encode(ButtonKind.SURVEY_PICK, i)
            ),
        )
        for i, (_, title) in enumerate(view.surveys())
    ]
    rows += [
        (
            Button(
                button_label(ctx.t("btn_st_close", title=b.wave.title, label=b.wave.label)),
                encode(ButtonKind.SURVEY_CLOSE, b.wave.id),
            ),
        )
        for b in blocks
        if b.wave.status == "open"
    ]
    return ctx.step(ctx.state.to("idle")).say("\n".join(lines), tuple(rows))


def _survey_classes_reply(ctx: Ctx, chosen: list[int]) -> Step:
    names = _class_names(ctx)
    buttons = [
        Button(("✓ " if cid in chosen else "") + name, encode(ButtonKind.SURVEY_CLASS, cid))
        for cid, name in names.items()
    ]
    rows = [tuple(buttons[i : i + 4]) for i in range(0, len(buttons), 4)]
    every = "✓ " if chosen and set(chosen) == set(names) else ""
    rows.append((Button(every + ctx.t("btn_st_all_classes"), encode(ButtonKind.SURVEY_CLASS, 0)),))
    rows.append(
        tuple(
            Button(ctx.t("btn_st_days", days=d), encode(ButtonKind.SURVEY_STEP, f"d{d}"))
            for d in CLOSE_DAYS
        )
    )
    rows.append((Button(ctx.t("btn_cancel"), encode(ButtonKind.SURVEY_STEP, "cancel")),))
    title = str(ctx.state.data.get("title", ""))
    return ctx.step().say(ctx.t("st_survey_classes", title=title), tuple(rows))


def survey_pick(ctx: Ctx) -> Step:
    assert ctx.payload is not None
    if ctx.person is None or not allowed(ctx, "survey"):
        return refuse(ctx, "survey")
    surveys = staff_view(ctx).surveys()
    index = ctx.payload.int_arg(0)
    if index >= len(surveys):
        return ctx.fallback("bad_button")
    slug, title = surveys[index]
    ctx.state = ctx.state.to(SURVEY_MODE, slug=slug, title=title, classes=[])
    step = _survey_classes_reply(ctx, [])
    step.state = ctx.state
    return step


def survey_class(ctx: Ctx) -> Step:
    assert ctx.payload is not None
    if ctx.person is None or not allowed(ctx, "survey"):
        return refuse(ctx, "survey")
    if ctx.state.mode != SURVEY_MODE:
        return ctx.fallback("stale")
    names = _class_names(ctx)
    class_id = ctx.payload.int_arg(0)
    chosen = set(ctx.state.data.get("classes") or [])
    if class_id == 0:
        chosen = set() if chosen == set(names) else set(names)
    elif class_id in names:
        chosen.symmetric_difference_update({class_id})
    else:
        return ctx.fallback("bad_button")
    ctx.state = ctx.state.to(SURVEY_MODE, **{**ctx.state.data, "classes": sorted(chosen)})
    step = _survey_classes_reply(ctx, sorted(chosen))
    step.state = ctx.state
    step.replies[-1] = _edit(ctx, step.replies[-1])
    return step


def _edit(ctx: Ctx, reply: Reply) -> Reply:
    return replace(reply, edit_ref=ctx.event.message_ref)


def survey_step(ctx: Ctx) -> Step:
    assert ctx.payload is not None
    if ctx.person is None or not allowed(ctx, "survey"):
        return refuse(ctx, "survey")
    word = ctx.payload.str_arg(0)
    if word == "cancel":
        return ctx.menu(ctx.t("cancelled"))
    data = dict(ctx.state.data)
    if ctx.state.mode != SURVEY_MODE:
        return ctx.fallback("stale")
    if word.startswith("d") and word[1:].isdigit() and int(word[1:]) in CLOSE_DAYS:
        classes = list(data.get("classes") or [])
        if not classes:
            return ctx.step().say(ctx.t("st_survey_need_class"))
        counts = staff_view(ctx).preview(str(data["slug"]), classes)
        if counts is None:
            return ctx.fallback("stale")
        days = int(word[1:])
        names = _class_names(ctx)
        closes = ctx.world.now + timedelta(days=days)
        channels = ", ".join(f"{ch}: {n}" for ch, n in sorted(counts.items())) or "—"
        text = ctx.t(
            "st_survey_preview",
            title=data.get("title", ""),
            classes=", ".join(names.get(c, "?") for c in classes),
            closes=_date(ctx, closes),
            count=sum(counts.values()),
            channels=channels,
        )
        buttons = (
            (Button(ctx.t("btn_st_confirm_open"), encode(ButtonKind.SURVEY_STEP, "confirm")),),
            (Button(ctx.t("btn_cancel"), encode(ButtonKind.SURVEY_STEP, "cancel")),),
        )
        return ctx.step(ctx.state.to(SURVEY_MODE, **{**data, "days": days})).say(text, buttons)
    if word == "confirm" and data.get("days"):
        step = ctx.step(ctx.state.to("idle")).say(
            ctx.t("st_survey_opening", title=data.get("title", ""))
        )
        chosen = tuple(int(c) for c in data.get("classes") or [])
        step.effects.append(OpenSurvey(str(data["slug"]), chosen, int(data["days"])))
        return step
    if word == "close" and data.get("close"):
        wave_id = int(data["close"])
        step = ctx.step(ctx.state.to("idle")).say(ctx.t("st_survey_closing"))
        step.effects.append(CloseSurvey(wave_id))
        return step
    return ctx.fallback("stale")


def survey_close(ctx: Ctx) -> Step:
    assert ctx.payload is not None
    if ctx.person is None or not allowed(ctx, "survey"):
        return refuse(ctx, "survey")
    wave = ctx.world.wave(ctx.payload.int_arg(0))
    if wave is None or wave.status != "open":
        return ctx.fallback("stale")
    buttons = (
        (Button(ctx.t("btn_st_confirm_close"), encode(ButtonKind.SURVEY_STEP, "close")),),
        (Button(ctx.t("btn_cancel"), encode(ButtonKind.SURVEY_STEP, "cancel")),),
    )
    return ctx.step(ctx.state.to(SURVEY_MODE, close=wave.id)).say(
        ctx.t("st_survey_close_confirm", title=wave.title, label=wave.label), buttons
    )


def survey_input(ctx: Ctx) -> Step:
    return ctx.step().say(ctx.t("st_use_buttons"))


# ---------------------------------------------------------------- /staff
def _roles_text(ctx: Ctx, member: StaffMember) -> str:
    parts = [
        role_name(ctx.lang, role) + (f" {klass}" if klass else "")
        for role, _, klass in member.roles
    ]
    return ", ".join(parts)


def staff(ctx: Ctx) -> Step:
    if ctx.person is None or not allowed(ctx, "staff"):
        return refuse(ctx, "staff")
    members = staff_view(ctx).staff()
    lines = [ctx.t("st_staff_title")]
    lines += [f"• {m.name or '—'}: {_roles_text(ctx, m)}" for m in members]
    rows: list[tuple[Button, ...]] = [
        (
            Button(
                button_label(m.name or str(m.person_id)),
                encode(ButtonKind.STAFF, "who", m.person_id, 0),
            ),
        )
        for m in members
    ]
    rows.append(
        (
            Button(ctx.t("btn_st_classes"), encode(ButtonKind.STAFF, "classes", 0, 0)),
            Button(ctx.t("btn_st_log"), encode(ButtonKind.STAFF, "log", 0, 0)),
        )
    )
    if allowed(ctx, "import_forms"):
        rows.append((Button(ctx.t("btn_st_forms"), encode(ButtonKind.FORMS, "start", 0)),))
    return ctx.step(ctx.state.to("idle")).say("\n".join(lines), tuple(rows))


AUDIT_LINES = 15  # the latest changes in chat; `classpulse staff log --limit N` has them all
# The audit's actions (bot/staff/effects.py, bot/staff/service.py) in words.
AUDIT_ACTIONS = {
    "assign_class_teacher": "audit_assign_class_teacher",
    "remove_role": "audit_remove_role",
    "nudge": "audit_nudge",
    "invite": "audit_invite",
    "open_wave": "audit_open_wave",
    "close_wave": "audit_close_wave",
    "add_classes": "audit_add_classes",
    "import_forms": "audit_import_forms",
}
# An import's detail, as bot/staff/forms_effects.py writes it: "<survey> <wave>: <n> responses".
IMPORT_DETAIL = re.compile(r"(?P<survey>\S+) (?P<wave>.+): (?P<count>\d+) responses")


def _audit_detail(ctx: Ctx, action: str, detail: str, titles: dict[str, str]) -> str:
    """The entry's detail in words where the log knows its form; else as written."""
    found = IMPORT_DETAIL.fullmatch(detail) if action == "import_forms" else None
    if found is None:
        return detail
    return ctx.t(
        "audit_import_detail",
        title=titles.get(found["survey"], found["survey"]),
        wave=found["wave"],
        count=int(found["count"]),
    )


def _log(ctx: Ctx) -> Step:
    """The staff audit log's latest entries (the CLI's `staff log`)."""
    entries = staff_view(ctx).audit(AUDIT_LINES)
    titles = (
        dict(staff_view(ctx).surveys()) if any(e.action == "import_forms" for e in entries) else {}
    )
    if not entries:
        return ctx.step().say(ctx.t("st_log_empty"))
    lines = [ctx.t("st_log_title")]
    for e in entries:
        key = AUDIT_ACTIONS.get(e.action)
        parts = [
            f"{staff_view(ctx).local(e.at):%d.%m %H:%M}",
            e.actor_name or "—",
            ctx.t(key) if key else e.action,
        ]
        detail = _audit_detail(ctx, e.action, e.detail, titles)
        parts += [p for p in (e.target_name, e.class_name, detail) if p]
        lines.append(" · ".join(parts))
    return ctx.step().say("\n".join(lines))


def class_order(name: str) -> tuple[int, str]:
    """5-А before 10-А: by the year's number, then the letter."""
    digits = name[: len(name) - len(name.lstrip("0123456789"))]
    return (int(digits) if digits else 99, name)


def _classes(ctx: Ctx) -> Step:
    """The school's classes and a button to add some (the CLI's `class list` / `class add`)."""
    names = ", ".join(_class_names(ctx).values()) or ctx.t("st_classes_none")
    add = ((Button(ctx.t("btn_st_add_classes"), encode(ButtonKind.STAFF, "addcls", 0, 0)),),)
    return ctx.step(ctx.state.to("idle")).say(ctx.t("st_classes", classes=names), add)


def classes_input(ctx: Ctx) -> Step:
    """The names of new classes, separated by commas (or lines)."""
    if ctx.person is None or not allowed(ctx, "staff"):
        return refuse(ctx, "staff")
    text = ctx.event.text if ctx.event.kind is EventKind.TEXT else ""
    names = tuple(n.strip() for n in re.split(r"[,;\n]+", text) if n.strip())
    if not names:
        return ctx.step().say(ctx.t("st_classes_ask"))
    if len(names) > MAX_NEW_CLASSES:
        return ctx.step().say(ctx.t("st_classes_too_many", max=MAX_NEW_CLASSES))
    step = ctx.step(ctx.state.to("idle"))
    step.effects.append(AddClasses(names))
    return step


def _member(ctx: Ctx, person_id: int) -> StaffMember | None:
    return next((m for m in staff_view(ctx).staff() if m.person_id == person_id), None)


def staff_pressed(ctx: Ctx) -> Step:
    assert ctx.payload is not None
    if ctx.person is None or not allowed(ctx, "staff"):
        return refuse(ctx, "staff")
    word, person_id, class_id = (
        ctx.payload.str_arg(0),
        ctx.payload.int_arg(1),
        ctx.payload.int_arg(2),
    )
    if word == "classes":
        return _classes(ctx)
    if word == "log":
        return _log(ctx)
    if word == "addcls":
        return ctx.step(ctx.state.to(CLASSES_MODE)).say(ctx.t("st_classes_ask"))
    member = _member(ctx, person_id)
    if member is None:
        return ctx.fallback("stale")
    names = _class_names(ctx)
    if word == "who":
        rows: list[tuple[Button, ...]] = []
        if any(role in ("teacher", "class_teacher") for role, _, _ in member.roles):
            rows.append(
                (Button(ctx.t("btn_st_make_ct"), encode(ButtonKind.STAFF, "ctpick", person_id, 0)),)
            )
        for role, cid, klass in member.roles:
            label = ctx.t("btn_st_remove", role=role_name(ctx.lang, role), klass=klass)
            rows.append(
                (
                    Button(
                        button_label(label),
                        encode(ButtonKind.STAFF, f"rm{ROLES.index(role)}", person_id, cid or 0),
                    ),
                )
            )
        text = ctx.t("st_staff_person", name=member.name, roles=_roles_text(ctx, member))
        return ctx.step().say(text, tuple(rows))
    if word == "ctpick":
        buttons = [
            Button(name, encode(ButtonKind.STAFF, "ct", person_id, cid))
            for cid, name in names.items()
        ]
        rows = [tuple(buttons[i : i + 4]) for i in range(0, len(buttons), 4)]
        return ctx.step().say(ctx.t("st_staff_ct_class", name=member.name), tuple(rows))
    if word == "ct":
        if class_id not in names:
            return ctx.fallback("bad_button")
        if not any(role in ("teacher", "class_teacher") for role, _, _ in member.roles):
            return ctx.step().say(ctx.t("st_staff_not_teacher", name=member.name))
        step = ctx.step().say(ctx.t("st_staff_ct_done", name=member.name, klass=names[class_id]))
        step.effects.append(AssignClassTeacher(person_id, class_id))
        return step
    if word.startswith("rm") and word[2:].isdigit() and int(word[2:]) < len(ROLES):
        role = ROLES[int(word[2:])]
        cid = class_id or None
        if (role, cid) not in {(r, c) for r, c, _ in member.roles}:
            return ctx.fallback("stale")
        if person_id == ctx.person.id and role in ("director", "admin"):
            return ctx.step().say(ctx.t("st_staff_not_self"))
        step = ctx.step().say(
            ctx.t(
                "st_staff_removed",
                name=member.name,
                role=role_name(ctx.lang, role),
                klass=names.get(class_id, ""),
            )
        )
        step.effects.append(RemoveRole(person_id, cid, role))
        return step
    return ctx.fallback("bad_button")


# ---------------------------------------------------------------- menu items
def report_item(ctx: Ctx) -> Step:
    return report(ctx)


def rates_item(ctx: Ctx) -> Step:
    return rates(ctx)


def survey_item(ctx: Ctx) -> Step:
    return survey(ctx)


def invite_item(ctx: Ctx) -> Step:
    return invite(ctx)


def staff_item(ctx: Ctx) -> Step:
    return staff(ctx)
