"""Neutral types between the engine and the channels: what came in, what goes out.

No messenger library is imported here or in the engine; adapters translate to and from these.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    TEXT = "text"
    BUTTON = "button"
    COMMAND = "command"
    FILE = "file"
    UNREACHABLE = "unreachable"  # the user blocked the bot / unsubscribed
    SUBSCRIBED = "subscribed"  # the user (re)subscribed: reachable again
    RECEIPT = "receipt"  # a message of ours was delivered / seen (text), message_ref = its id
    DELIVERY_FAILED = "delivery_failed"  # a message of ours failed on the client (counted)


# A file a user sent, kept by the messenger: `<channel>-file:<ref>` (bot/channels/capabilities.py).
FILE_REF_MARK = "-file:"


@dataclass(frozen=True)
class FileRef:
    """A file the user sent: where the channel keeps it, and what it claims to be."""

    name: str
    mime: str
    size: int
    ref: str  # channel file id or URL, resolved by the channel when needed


@dataclass(frozen=True)
class IncomingEvent:
    """One thing a user did, in any channel."""

    channel: str
    user_id: str
    kind: EventKind
    text: str = ""
    payload: str = ""
    command: str = ""
    argument: str = ""
    file: FileRef | None = None
    display_name: str = ""
    language_code: str = ""
    event_id: str = ""  # delivery id for deduplication (update_id, message_token)
    message_ref: str = ""  # the message a button was pressed on
    reply_to_ref: str = ""  # the message this one replies to (a teacher answering a relay)

    @classmethod
    def from_text(cls, channel: str, user_id: str, text: str, **kw: Any) -> IncomingEvent:
        """Text as typed: `/cmd arg` becomes a command, anything else stays text."""
        stripped = text.strip()
        if stripped.startswith("/") and len(stripped) > 1:
            head, _, arg = stripped[1:].partition(" ")
            name = head.split("@", 1)[0].lower()  # /start@classpulse_bot in groups
            if name.replace("_", "").isalnum():
                return cls(
                    channel, user_id, EventKind.COMMAND, command=name, argument=arg.strip(), **kw
                )
        return cls(channel, user_id, EventKind.TEXT, text=text, **kw)


@dataclass(frozen=True)
class Button:
    """A button: a callback payload (short, opaque) or a URL."""

    label: str
    payload: str = ""
    url: str = ""


@dataclass(frozen=True)
class OutFile:
    path: str
    name: str
    mime: str
    # A public link to the file, for channels that receive files only by URL (and its size).
    url: str = ""
    size: int = 0


@dataclass(frozen=True)
class Reply:
    """One message to show. Channels that cannot show buttons number them as text."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    file: OutFile | None = None
    remove_keyboard: bool = False
    # Replace the message the pressed button was on (Telegram edits it; others send anew).
    edit_ref: str = ""
    # Only for the multi-choice keyboard: update the buttons of edit_ref, keep its text.
    keyboard_only: bool = False
    # Where the conversation stands, for channels that echo it back (Viber tracking_data).
    position: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reply:
        buttons = tuple(tuple(Button(**b) for b in row) for row in data.get("buttons", ()))
        file = OutFile(**data["file"]) if data.get("file") else None
        return cls(
            text=data["text"],
            buttons=buttons,
            file=file,
            remove_keyboard=data.get("remove_keyboard", False),
            edit_ref=data.get("edit_ref", ""),
            keyboard_only=data.get("keyboard_only", False),
            position=data.get("position", ""),
        )

    def flat_buttons(self) -> list[Button]:
        return [b for row in self.buttons for b in row]


@dataclass(frozen=True)
class Outgoing:
    """A message for someone other than the sender (a relayed question, a notice)."""

    person_id: int
    reply: Reply
    kind: str = "relay"
    urgent: bool = True
    key: str = ""  # idempotency key; empty = derived from the event


@dataclass(frozen=True)
class GroupEvent:
    """Something that happened in a group chat and concerns the bot."""

    channel: str
    chat_id: str
    kind: str  # bind | unbind | added | removed | migrated (argument: the new chat id)
    user_id: str = ""  # who did it (their private-chat external id)
    argument: str = ""
    event_id: str = ""
    language_code: str = ""
