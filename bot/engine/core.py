"""The engine's types and router: (state, event, world, routes) -> Step(state, replies, effects).

The engine never writes: it reads through `World` (a read-only view the caller builds inside
its transaction) and returns effects, which the caller applies and persists. It knows no flow:
the handlers come in a `Routes` table, built in one file (bot/routes.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from bot.engine.buttons import ButtonKind, Payload, PayloadError, decode
from bot.engine.events import Button, EventKind, IncomingEvent, Outgoing, Reply
from bot.texts import LANGUAGES, t
from storage.records import DraftInfo, InviteInfo, PersonInfo, WaveInfo
from storage.survey_schema import SurveyDef

MAX_MESSAGE = 4000  # longer inbound text is refused before any flow sees it


# ---------------------------------------------------------------- state
@dataclass(frozen=True)
class State:
    """Persisted per messenger account. `data` holds the current mode's fields."""

    mode: str = "idle"
    lang: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"mode": self.mode, "lang": self.lang, "data": self.data}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> State:
        if not isinstance(raw, dict):
            return cls()
        mode = raw.get("mode") if isinstance(raw.get("mode"), str) else "idle"
        lang = raw.get("lang") if raw.get("lang") in LANGUAGES else ""
        data = raw.get("data") if isinstance(raw.get("data"), dict) else {}
        return cls(mode=str(mode), lang=str(lang), data=dict(data or {}))

    def to(self, mode: str, **data: Any) -> State:
        return replace(self, mode=mode, data=data)


# ---------------------------------------------------------------- effects
@dataclass(frozen=True)
class Register:
    invite_code: str
    display_name: str
    language: str


@dataclass(frozen=True)
class AddMembership:
    invite_code: str


@dataclass(frozen=True)
class SaveDraft:
    wave_id: int
    class_id: int | None
    answers: dict[str, Any]
    position: int


@dataclass(frozen=True)
class Submit:
    wave_id: int
    survey_id: int
    class_id: int | None
    role: str
    answers: dict[str, Any]


@dataclass(frozen=True)
class Forget:
    pass


@dataclass(frozen=True)
class SetLanguage:
    language: str


@dataclass(frozen=True)
class Send:
    """A message to another person (relay, notice)."""

    outgoing: Outgoing


Effect = Any  # any frozen dataclass with an applier in bot/routes.py (APPLIERS)


def private_replies(before: State, step: Step) -> bool:
    """Whether a step's replies must leave no trace once delivered (the outbox scrubs them):
    everything a survey in progress says (questions mark the chosen options, echoes and the
    review repeat answers, the thanks says a survey was just submitted) and the confirmation
    of an erasure."""
    return (
        before.mode == "survey"
        or step.state.mode == "survey"
        or any(isinstance(e, SaveDraft | Submit | Forget) for e in step.effects)
    )


# ---------------------------------------------------------------- world
@dataclass(frozen=True)
class OpenWave:
    """A wave this person may answer, as (class, role) of the membership it is answered for."""

    wave: WaveInfo
    class_id: int | None
    role: str
    # Every membership the wave applies to; more than one for a parent of children in two of
    # the wave's classes, who is asked which class the answers are about.
    choices: tuple[tuple[int | None, str], ...] = ()

    def answered_for(self, class_id: int | None) -> OpenWave:
        role = next((r for c, r in self.choices if c == class_id), None)
        return self if role is None else replace(self, class_id=class_id, role=role)


class World(Protocol):
    """Read-only view of stored data for one event."""

    now: datetime
    school_name: str
    default_language: str

    def person(self) -> PersonInfo | None: ...

    def invite(self, code: str) -> InviteInfo: ...

    def open_waves(self) -> list[OpenWave]: ...

    def wave(self, wave_id: int) -> WaveInfo | None: ...

    def survey(self, survey_id: int) -> SurveyDef: ...

    def draft(self, wave_id: int) -> DraftInfo | None: ...

    def completed(self, wave_id: int) -> bool: ...

    def message_showing(self, position: str) -> str:
        """The ref of the message with buttons that showed `position` (Reply.position) to this
        user, where the channel can edit it; "" otherwise."""
        ...


# ---------------------------------------------------------------- step
@dataclass
class Step:
    state: State
    replies: list[Reply] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    # A command to run after the effects are applied (e.g. "menu" after registering), so that
    # what it shows reflects the new stored state.
    follow_up: str = ""

    def say(self, text: str, buttons: tuple[tuple[Button, ...], ...] = (), **kw: Any) -> Step:
        self.replies.append(Reply(text=text, buttons=buttons, **kw))
        return self


Handler = Callable[["Ctx"], Step]
MenuHandler = Callable[["Ctx", str], Step]
MenuProvider = Callable[["Ctx"], list[Button]]
# Text sent as a messenger "reply" to an earlier message: handlers that recognise the message
# (e.g. a relayed question) answer it, whatever the mode; None lets the next one try.
ReplyHandler = Callable[["Ctx"], "Step | None"]


@dataclass(frozen=True)
class Routes:
    """Where every input goes. One instance, built in bot/routes.py."""

    commands: dict[str, Handler]
    buttons: dict[ButtonKind, Handler]
    modes: dict[str, Handler]  # free text / a file while in a mode
    menu_items: dict[str, Handler]  # `ButtonKind.MENU` buttons
    menu: MenuHandler  # the main menu, with an optional line above it
    menu_providers: tuple[MenuProvider, ...]  # extra menu buttons per person
    reply_handlers: tuple[ReplyHandler, ...]
    # not_registered, bad_button, stale, idle_input
    fallbacks: dict[str, Handler]
    public_commands: frozenset[str]
    public_buttons: frozenset[ButtonKind]


@dataclass
class Ctx:
    """What a handler gets: the event, the state, the world, and text helpers."""

    state: State
    event: IncomingEvent
    world: World
    routes: Routes
    payload: Payload | None = None
    _person: Any = field(default=None, repr=False)
    _person_loaded: bool = False

    @property
    def person(self) -> PersonInfo | None:
        if not self._person_loaded:
            self._person = self.world.person()
            self._person_loaded = True
        return self._person

    @property
    def lang(self) -> str:
        if self.state.lang:
            return self.state.lang
        person = self.person
        if person is not None and person.language in LANGUAGES:
            return person.language
        if self.event.language_code.startswith("en"):
            return "en"
        return self.world.default_language

    def t(self, key: str, **params: Any) -> str:
        return t(self.lang, key, **params)

    def step(self, state: State | None = None) -> Step:
        return Step(state if state is not None else self.state)

    def fallback(self, name: str) -> Step:
        """not_registered, bad_button, stale or idle_input (see Routes)."""
        return self.routes.fallbacks[name](self)

    def menu(self, prefix: str = "") -> Step:
        """The main menu, with `prefix` above it."""
        return self.routes.menu(self, prefix)

    def press(self, kind: ButtonKind, *args: int | str) -> Step:
        """Handle as if the person pressed this button (e.g. a deep link into a survey)."""
        self.payload = Payload(kind, args)
        return self.routes.buttons[kind](self)


def step(state: State, event: IncomingEvent, world: World, routes: Routes) -> Step:
    """The engine's one entry point."""
    ctx = Ctx(state=state, event=event, world=world, routes=routes)
    if event.kind is EventKind.TEXT and len(event.text) > MAX_MESSAGE:
        return ctx.step().say(ctx.t("message_too_long", count=len(event.text), limit=MAX_MESSAGE))
    if event.kind is EventKind.COMMAND:
        handler = routes.commands.get(event.command)
        if handler is None:
            return ctx.step().say(ctx.t("unknown_command", command=event.command[:32]))
        if event.command not in routes.public_commands and ctx.person is None:
            return ctx.fallback("not_registered")
        return handler(ctx)
    if event.kind is EventKind.BUTTON:
        try:
            ctx.payload = decode(event.payload)
        except PayloadError:
            return ctx.fallback("bad_button")
        handler = routes.buttons.get(ctx.payload.kind)
        if handler is None:
            return ctx.fallback("bad_button")
        if ctx.payload.kind not in routes.public_buttons and ctx.person is None:
            return ctx.fallback("not_registered")
        return handler(ctx)
    if event.kind is EventKind.TEXT and event.reply_to_ref and ctx.person is not None:
        for reply_handler in routes.reply_handlers:
            handled = reply_handler(ctx)
            if handled is not None:
                return handled
    mode_handler = routes.modes.get(state.mode)
    if mode_handler is not None:
        return mode_handler(ctx)
    return ctx.fallback("idle_input")
