"""The console channel: `classpulse chat` runs the real engine in a terminal."""

from __future__ import annotations

from collections.abc import Callable

import click

from bot.channels.base import event_for_number, render_text
from bot.cli.app import AppContext
from bot.events import EventKind, IncomingEvent, Reply
from bot.service import ChatService
from storage.repositories import invites, school

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


def _join_as(
    app: AppContext, session_user: ConsoleSession, role: str, class_name: str | None
) -> None:
    now = app.clock()
    with app.db.write() as session:
        class_id = None
        if class_name:
            class_id = school.add_classes(session, app.settings.school_name, [class_name])[0].id
        code = invites.create_invite(session, class_id, role, now, max_uses=1).code
    session_user.handle_line(f"/start {code}")
    session_user.handle_line("1")  # consent


def run_console(app: AppContext, role: str | None, class_name: str | None, user: str) -> None:
    service = ChatService(app.db, app.settings, clock=app.clock, outbox_channels=frozenset())
    console = ConsoleSession(service, user)
    click.echo("classpulse console. Type a message, a /command, or a button number. Ctrl-D exits.")
    if role:
        _join_as(app, console, role, class_name)
    else:
        console.handle_line("/start")
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
