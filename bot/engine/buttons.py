"""Button payloads: short, opaque, versionless strings that encode indexes, never option texts.

Format: `~<kind>:<arg>:<arg>...`, e.g. `~a:12:3:1` = answer wave 12, question 3, option 1
(`ButtonKind.ANSWER`); every kind is listed in `ButtonKind` below, its handler in bot/routes.py.
Telegram's callback_data allows 64 bytes; Viber returns the payload as the message text, so the
`~` prefix tells a pressed button from typed text. Anything that does not parse, or whose
arguments are out of range, is treated as tampered and answered politely by the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

PREFIX = "~"
MAX_BYTES = 64
_MAX_INT = 10**9


class ButtonKind(StrEnum):
    """What a button does. The value is the one letter on the wire (Telegram's 64 bytes)."""

    # joining, menu, language, forget (bot/members/)
    CONSENT = "c"  # consent to the data notice: y / n
    MENU = "m"  # a main-menu item: word
    LANGUAGE = "l"  # choose a language: uk / en
    FORGET = "f"  # confirm /forget: y / n
    # surveys (bot/surveys/)
    START_SURVEY = "s"  # start or resume a survey: wave
    CHOOSE_CLASS = "C"  # start a survey for one of the person's classes: wave, class
    ANSWER = "a"  # answer a single-choice question: wave, question, option
    TOGGLE = "t"  # toggle a multi-choice option: wave, question, option
    DONE = "d"  # done with a multi-choice question: wave, question
    SKIP = "k"  # skip an optional question: wave, question
    BACK = "b"  # back from a question: wave, question
    EDIT = "e"  # edit an answer from the review: wave, question
    SUBMIT = "S"  # submit: wave
    # criteria notices (bot/criteria/)
    CRITERIA_CLASS = "n"  # wizard: toggle a class: class id
    CRITERIA_STEP = "N"  # wizard: next / audience / no file / send / edit / cancel: word
    CRITERIA_SUBJECT = "j"  # wizard: subject from the school's list: index
    ACKNOWLEDGE = "x"  # family: "understood": notice id
    ASK = "q"  # family: "I have a question": notice id
    REPLY_QUESTION = "r"  # teacher: answer a relayed question: question id
    VIEW_NOTICE = "y"  # /criteria: show one notice again: notice id
    # staff work (bot/staff/)
    REPORT = "R"  # /report: a wave's report: wave, class (0 = every class)
    NUDGE = "u"  # /rates: remind the non-respondents: wave, class
    INVITE = "I"  # /invite: class (0 = school-wide), role index (see bot/staff/flows.py)
    SURVEY_PICK = "O"  # /survey: open a questionnaire: index in the list
    SURVEY_CLASS = "z"  # /survey: toggle a class: class id (0 = every class)
    SURVEY_STEP = "Y"  # /survey: close date d3/d7/d14, confirm, close, cancel: word
    SURVEY_CLOSE = "Z"  # /survey: close an open wave: wave id
    STAFF = "T"  # /staff: action word, person id, class id (0 = none)
    FORMS = "F"  # /staff → import from Google Forms: step word, survey index (else 0)


# kind -> argument spec: "i" = non-negative int, "w" = short word [a-z0-9_]
SPECS: dict[ButtonKind, str] = {
    ButtonKind.CONSENT: "w",
    ButtonKind.MENU: "w",
    ButtonKind.LANGUAGE: "w",
    ButtonKind.FORGET: "w",
    ButtonKind.START_SURVEY: "i",
    ButtonKind.CHOOSE_CLASS: "ii",
    ButtonKind.ANSWER: "iii",
    ButtonKind.TOGGLE: "iii",
    ButtonKind.DONE: "ii",
    ButtonKind.SKIP: "ii",
    ButtonKind.BACK: "ii",
    ButtonKind.EDIT: "ii",
    ButtonKind.SUBMIT: "i",
    ButtonKind.CRITERIA_CLASS: "i",
    ButtonKind.CRITERIA_STEP: "w",
    ButtonKind.CRITERIA_SUBJECT: "i",
    ButtonKind.ACKNOWLEDGE: "i",
    ButtonKind.ASK: "i",
    ButtonKind.REPLY_QUESTION: "i",
    ButtonKind.VIEW_NOTICE: "i",
    ButtonKind.REPORT: "ii",
    ButtonKind.NUDGE: "ii",
    ButtonKind.INVITE: "ii",
    ButtonKind.SURVEY_PICK: "i",
    ButtonKind.SURVEY_CLASS: "i",
    ButtonKind.SURVEY_STEP: "w",
    ButtonKind.SURVEY_CLOSE: "i",
    ButtonKind.STAFF: "wii",
    ButtonKind.FORMS: "wi",
}


class PayloadError(ValueError):
    pass


@dataclass(frozen=True)
class Payload:
    kind: ButtonKind
    args: tuple[int | str, ...]

    def int_arg(self, i: int) -> int:
        value = self.args[i]
        assert isinstance(value, int)
        return value

    def str_arg(self, i: int) -> str:
        return str(self.args[i])


def encode(kind: ButtonKind, *args: int | str) -> str:
    spec = SPECS[kind]
    if len(args) != len(spec):
        raise PayloadError(f"{kind} takes {len(spec)} arguments")
    text = PREFIX + ":".join([kind, *map(str, args)])
    if len(text.encode()) > MAX_BYTES:
        raise PayloadError("payload longer than 64 bytes")
    return text


def is_payload(text: str) -> bool:
    return text.startswith(PREFIX)


def decode(text: str) -> Payload:
    """Parse and validate; raise PayloadError on anything unexpected."""
    if not text.startswith(PREFIX) or len(text.encode()) > MAX_BYTES:
        raise PayloadError("not a payload")
    kind, *raw = text[len(PREFIX) :].split(":")
    try:
        button_kind = ButtonKind(kind)
    except ValueError:
        raise PayloadError("unknown payload") from None
    spec = SPECS[button_kind]
    if len(raw) != len(spec):
        raise PayloadError("unknown payload")
    args: list[int | str] = []
    for kind_char, value in zip(spec, raw, strict=True):
        if kind_char == "i":
            if not value.isdigit() or len(value) > 9 or int(value) >= _MAX_INT:
                raise PayloadError("bad number")
            args.append(int(value))
        else:
            if not value or len(value) > 16 or not value.replace("_", "").isalnum():
                raise PayloadError("bad word")
            args.append(value)
    return Payload(button_kind, tuple(args))
