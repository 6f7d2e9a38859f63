"""A neutral Reply as Viber shows it: text with a numbered fallback, a keyboard, tracking data.

No viberbot here: these are the plain dicts of the Viber REST API, so they can be tested and
measured (30 KB per request) without a network. `bot/channels/viber/client.py` wraps them in
viberbot's message types.

Viber cannot edit a message, and its keyboard belongs to the latest message only. So:
- an edit that only echoes the chosen answer is skipped (it would cost a message and say
  nothing the next question does not);
- a keyboard-only edit (a multi-choice toggle) is sent anew with the updated keyboard;
- `tracking_data` carries the conversation position and, for keyboards the engine does not read
  numbers for (consent, menu, review), which payload each number stands for, so a client too old
  for keyboards can answer by typing a number.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Any

from bot.engine.buttons import MAX_BYTES, is_payload
from bot.engine.events import Button, Reply

MIN_API_VERSION = 7  # keyboards with Rows, Silent and InputFieldState
MAX_TEXT = 7000  # Viber's limit for a text message
MAX_TRACKING = 4096  # Viber's limit for tracking_data
MAX_NUMBERED = 30
GRID = 6  # a Viber keyboard row is six columns wide
CHARS_PER_FULL_LINE = 32  # what a phone shows on one line of a full-width button
OPTION_KINDS = ("a", "t")  # survey options: the engine itself reads their typed numbers
UNNUMBERED_KINDS = ("b", "k")  # back / skip: navigation, not an answer
# Buttons per line for a row of n buttons: pairs rather than a cramped row of four.
_PER_LINE = {1: 1, 2: 2, 3: 3, 4: 2}

_HINTS = {
    "uk": "Або надішліть номер відповіді.",
    "en": "Or send the number of your answer.",
}


@dataclass(frozen=True)
class Media:
    """A picture or file message sent before the text: Viber takes them by public URL only."""

    kind: str  # "picture" | "file"
    url: str
    name: str
    size: int


@dataclass(frozen=True)
class Rendered:
    """One Viber message, ready for viberbot's TextMessage (and its media message, if any)."""

    text: str
    keyboard: dict[str, Any] | None = None
    tracking_data: str = ""
    media: Media | None = None


# Viber's rules for media messages: pictures JPEG/PNG about 1 MB; files up to 50 MB, and a list
# of extensions it refuses (executables and scripts).
MAX_PICTURE = 1024 * 1024
MAX_FILE = 50 * 1024 * 1024
PICTURE_TYPES = ("image/jpeg", "image/png")
REFUSED_EXTENSIONS = frozenset(
    [
        "apk",
        "app",
        "bat",
        "bin",
        "cmd",
        "com",
        "command",
        "cpl",
        "csh",
        "dll",
        "dmg",
        "exe",
        "gadget",
        "inf1",
        "ins",
        "inx",
        "ipa",
        "isu",
        "job",
        "jse",
        "ksh",
        "lnk",
        "msc",
        "msi",
        "msp",
        "mst",
        "osx",
        "out",
        "paf",
        "pif",
        "prg",
        "ps1",
        "reg",
        "rgs",
        "run",
        "scr",
        "sct",
        "sh",
        "shb",
        "shs",
        "u3",
        "vb",
        "vbe",
        "vbs",
        "vbscript",
        "workflow",
        "ws",
        "wsf",
    ]
)
_LINK_NOTES = {
    "uk": "📎 Viber не пересилає такий файл, тож ось посилання: {name} — {url}",
    "en": "📎 Viber does not carry this kind of file, so here is a link: {name} — {url}",
}


@dataclass(frozen=True)
class Tracking:
    """What came back in a message's tracking_data (hostile until parsed here)."""

    position: str = ""
    numbered: tuple[str, ...] = field(default_factory=tuple)

    def payload_for(self, text: str) -> str | None:
        """The payload a typed number stands for, if the keyboard had numbered buttons."""
        stripped = text.strip()
        if not self.numbered or not stripped.isdigit() or len(stripped) > 3:
            return None
        index = int(stripped) - 1
        return self.numbered[index] if 0 <= index < len(self.numbered) else None


def is_echo(reply: Reply) -> bool:
    """An edit that only repeats the chosen answer: Viber skips it."""
    return bool(reply.edit_ref) and not reply.keyboard_only and not reply.buttons


def _kind(button: Button) -> str:
    return button.payload[1:].split(":", 1)[0] if is_payload(button.payload) else ""


def _language(text: str) -> str:
    # The Reply is already in the user's language; Cyrillic means Ukrainian.
    return "uk" if any("\u0400" <= ch <= "\u04ff" for ch in text) else "en"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"


def _numbered(reply: Reply) -> tuple[list[Button], bool]:
    """Buttons to number in the text, and whether the engine reads the numbers itself."""
    payload_buttons = [b for b in reply.flat_buttons() if b.payload]
    options = [b for b in payload_buttons if _kind(b) in OPTION_KINDS]
    if options:
        return options, True
    return [b for b in payload_buttons if _kind(b) not in UNNUMBERED_KINDS], False


def fallback_text(reply: Reply) -> tuple[str, tuple[str, ...]]:
    """The text with numbered buttons, and the payloads the adapter maps numbers to."""
    numbered, engine_reads = _numbered(reply)
    lines = [reply.text]
    if numbered:
        lines.append("")
        lines += [f"{n}) {b.label}" for n, b in enumerate(numbered, start=1)]
        lines.append(_HINTS[_language(reply.text)])
    urls = [b for b in reply.flat_buttons() if b.url]
    if urls:
        lines.append("")
        lines += [f"{b.label}: {b.url}" for b in urls]
    mapped = () if engine_reads else tuple(b.payload for b in numbered[:MAX_NUMBERED])
    return _cut("\n".join(lines), MAX_TEXT), mapped


def _button(button: Button, columns: int) -> dict[str, Any] | None:
    per_line = max(CHARS_PER_FULL_LINE * columns // GRID, 8)
    label = _cut(button.label.strip() or "…", per_line * 2)
    rows = 1 if len(label) <= per_line else 2
    if button.url:
        if not button.url.startswith(("https://", "http://")):
            return None
        action, body = "open-url", button.url
    elif button.payload and len(button.payload.encode()) <= MAX_BYTES:
        action, body = "reply", button.payload
    else:
        return None
    return {
        "Columns": columns,
        "Rows": rows,
        "ActionType": action,
        "ActionBody": body,
        "Text": html.escape(label, quote=False),  # Viber renders a little HTML in Text
        "TextSize": "regular",
        # The payload is opaque: do not show `~a:12:3:1` as the user's own message.
        "Silent": True,
    }


def keyboard(reply: Reply) -> dict[str, Any] | None:
    buttons: list[dict[str, Any]] = []
    for row in reply.buttons:
        columns = GRID // _PER_LINE.get(len(row), 3)
        buttons += [b for b in (_button(button, columns) for button in row) if b is not None]
    if not buttons:
        return None
    return {
        "Type": "keyboard",
        "DefaultHeight": False,
        "InputFieldState": "regular",  # typing stays possible: text answers, numbers
        "Buttons": buttons,
    }


def tracking_data(position: str, numbered: tuple[str, ...]) -> str:
    data: dict[str, Any] = {}
    if position:
        data["p"] = position[:64]
    if numbered:
        data["n"] = list(numbered)
    if not data:
        return ""
    raw = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    if len(raw) > MAX_TRACKING:
        raw = json.dumps({"p": data.get("p", "")}, separators=(",", ":"))
    return raw


def media_of(reply: Reply) -> tuple[Media | None, str]:
    """The reply's file as a Viber media message, or (None, a line with the link) when Viber
    refuses that file; (None, "") without a linked file."""
    file = reply.file
    if file is None or not file.url.startswith("https://"):
        return None, ""
    extension = file.name.rsplit(".", 1)[-1].lower() if "." in file.name else ""
    if file.mime in PICTURE_TYPES and 0 < file.size <= MAX_PICTURE:
        return Media("picture", file.url, file.name, file.size), ""
    if extension and extension not in REFUSED_EXTENSIONS and 0 < file.size <= MAX_FILE:
        return Media("file", file.url, file.name, file.size), ""
    note = _LINK_NOTES[_language(reply.text)].format(name=file.name, url=file.url)
    return None, note


def render(reply: Reply) -> Rendered | None:
    """How Viber shows `reply`; None when Viber should send nothing (an echo edit)."""
    if is_echo(reply):
        return None
    text, numbered = fallback_text(reply)
    media, note = media_of(reply)
    if note:
        text = _cut(f"{text}\n\n{note}", MAX_TEXT)
    return Rendered(text, keyboard(reply), tracking_data(reply.position, numbered), media)


def merge(replies: list[Reply]) -> Reply | None:
    """Several replies as one message (the welcome allows only one): texts joined, last keyboard."""
    shown = [r for r in replies if not is_echo(r)]
    if not shown:
        return None
    with_buttons = [r for r in shown if r.buttons]
    last = with_buttons[-1] if with_buttons else shown[-1]
    text = "\n\n".join(r.text for r in shown if r.text)
    return Reply(text=text, buttons=last.buttons, position=last.position)


def parse_tracking(raw: object) -> Tracking:
    """tracking_data as sent back by the client: anything unexpected is ignored."""
    if not isinstance(raw, str) or not raw or len(raw) > MAX_TRACKING:
        return Tracking()
    try:
        data = json.loads(raw)
    except ValueError:
        return Tracking()
    if not isinstance(data, dict):
        return Tracking()
    position = data.get("p")
    position = position if isinstance(position, str) and len(position) <= 64 else ""
    numbered = data.get("n")
    if not isinstance(numbered, list) or len(numbered) > MAX_NUMBERED:
        numbered = []
    valid = tuple(
        p for p in numbered if isinstance(p, str) and is_payload(p) and len(p.encode()) <= MAX_BYTES
    )
    # All or nothing: a partly valid list would shift the numbers.
    return Tracking(position, valid if len(valid) == len(numbered) else ())
