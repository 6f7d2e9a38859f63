"""The console channel: `classpulse chat` runs the real engine in a terminal."""

from __future__ import annotations

from collections.abc import Callable

import click

from bot.channels.base import event_for_number, render_text
from bot.conversation.service import ChatService
from bot.engine.events import EventKind, IncomingEvent, Reply

CHANNEL = "console"


class ConsoleSession:
    """One terminal user: typed numbers press the buttons of the last message that had them."""

    def __init__(
        self, service: ChatService, user: str, output: Callable[[str], None] = click.echo
    ) -> None:
        self.service = service
        self.user = user
        self.output = output
        self.last_with_buttons: Reply | None = None

    def handle_line(self, line: str) -> list[Reply]:
        payload = event_for_number(self.last_with_buttons, line)
        if payload is not None:
            event = IncomingEvent(CHANNEL, self.user, EventKind.BUTTON, payload=payload)
        else:
            event = IncomingEvent.from_text(CHANNEL, self.user, line, display_name=self.user)
        replies = self.service.handle(event)
        for reply in replies:
            self.output(render_text(reply))
            self.output("")
            if reply.buttons:
                self.last_with_buttons = reply
        return replies


def run_console(service: ChatService, user: str, invite_code: str | None = None) -> None:
    """A terminal chat as `user`; with `invite_code`, it starts by opening that invite (the
    data notice and the consent question come next, as in the messengers)."""
    console = ConsoleSession(service, user)
    click.echo("classpulse console. Type a message, a /command, or a button number. Ctrl-D exits.")
    console.handle_line(f"/start {invite_code}" if invite_code else "/start")
    while True:
        try:
            line = input("> ")
        except (EOFError, KeyboardInterrupt):
            click.echo("")
            return
        if line.strip() in {"/quit", "/exit"}:
            return
        if line.strip():
            console.handle_line(line)
