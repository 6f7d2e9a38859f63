"""Button payloads: short, opaque, versionless strings that encode indexes, never option texts.

Format: `~<kind>:<arg>:<arg>...`, e.g. `~a:12:3:1` = answer wave 12, question 3, option 1.
Telegram's callback_data allows 64 bytes; Viber returns the payload as the message text, so the
`~` prefix tells a pressed button from typed text. Anything that does not parse, or whose
arguments are out of range, is treated as tampered and answered politely by the engine.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "~"
MAX_BYTES = 64
_MAX_INT = 10**9

# kind -> argument spec: "i" = non-negative int, "w" = short word [a-z0-9_]
SPECS: dict[str, str] = {
    "c": "w",  # consent: y / n
    "m": "w",  # menu item
    "s": "i",  # start or resume survey: wave
    "a": "iii",  # answer single: wave, question, option
    "t": "iii",  # toggle multi: wave, question, option
    "d": "ii",  # done with multi: wave, question
    "k": "ii",  # skip optional: wave, question
    "b": "ii",  # back from: wave, question
    "e": "ii",  # edit from review: wave, question
    "S": "i",  # submit: wave
    "C": "ii",  # start a survey for one of the person's classes: wave, class
    "l": "w",  # language
    "f": "w",  # forget: y / n
}


class PayloadError(ValueError):
    pass


@dataclass(frozen=True)
class Payload:
    kind: str
    args: tuple[int | str, ...]

    def int_arg(self, i: int) -> int:
        value = self.args[i]
        assert isinstance(value, int)
        return value

    def str_arg(self, i: int) -> str:
        return str(self.args[i])


def register_kind(kind: str, spec: str) -> None:
    """Let a flow module add its own payload kinds (e.g. criteria notices)."""
    if kind in SPECS and SPECS[kind] != spec:
        raise ValueError(f"payload kind {kind!r} already registered")
    SPECS[kind] = spec


def encode(kind: str, *args: int | str) -> str:
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
    spec = SPECS.get(kind)
    if spec is None or len(raw) != len(spec):
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
    return Payload(kind, tuple(args))
