"""The channel contract, and the text rendering every channel can fall back to."""

from __future__ import annotations

from typing import Protocol

from bot.engine.events import IncomingEvent, Reply


class Channel(Protocol):
    """A messenger adapter: turns platform updates into IncomingEvents, Replies into messages.

    The only method every channel must have sends text; buttons degrade to numbered lines.
    """

    name: str

    async def send(self, recipient: str, reply: Reply) -> str:
        """Deliver one reply; return the platform's message id (or "")."""
        ...


def render_text(reply: Reply) -> str:
    """A reply as plain text: buttons become numbered lines (`1) Так`)."""
    lines = [reply.text]
    buttons = reply.flat_buttons()
    if buttons:
        lines.append("")
        for number, button in enumerate(buttons, start=1):
            target = f" — {button.url}" if button.url else ""
            lines.append(f"{number}) {button.label}{target}")
    return "\n".join(lines)


def event_for_number(reply: Reply | None, text: str) -> str | None:
    """If `text` is a number of a button of `reply`, that button's payload."""
    if reply is None or not text.strip().isdigit():
        return None
    buttons = [b for b in reply.flat_buttons() if b.payload]
    index = int(text.strip()) - 1
    return buttons[index].payload if 0 <= index < len(buttons) else None


__all__ = ["Channel", "IncomingEvent", "Reply", "event_for_number", "render_text"]
