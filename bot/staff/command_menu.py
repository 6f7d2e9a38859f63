"""The staff commands each staff member sees in the messenger's command menu ("/" in Telegram).

Families see the same few commands everywhere; a class teacher or the director also finds
their own, so that nobody has to remember `/rates` or `/staff`. What a person sees follows the
permission table (bot/staff/permissions.py): a command they would be refused is not offered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.orm import Session

from bot.channels.capabilities import CommandMenu
from bot.staff.permissions import scope_of
from storage.db import Database
from storage.records import SCHOOL_WIDE_ROLES, STAFF_ROLES, PersonInfo
from storage.repositories import identity, people

# Published menus are kept with what the bot learned about itself (bot_identity), one fact per
# chat: identity.menu_key(account) -> "<language>:<command>,<command>".

# The adapter's publisher: sends the menus that differ from `published` (account -> menu it
# was given), updates `published` and returns how many chats it changed.
Publish = Callable[[list[CommandMenu], dict[str, CommandMenu]], Awaitable[int]]

# In menu order; each command's actions in the permission table (any one of them opens it).
STAFF_MENU: dict[str, tuple[str, ...]] = {
    "criteria_new": (),  # any staff role: teachers publish their subject's criteria
    "coverage": (),  # the director, the administration, class teachers (their classes)
    "report": ("report",),
    "rates": ("rates",),
    "survey": ("survey",),
    "invite": ("invite", "invite_staff"),
    "staff": ("staff",),
}


def staff_commands(person: PersonInfo) -> tuple[str, ...]:
    """The staff commands the person may use, in menu order; () for families."""
    roles = person.roles
    if not roles & set(STAFF_ROLES):
        return ()
    allowed = []
    for command, actions in STAFF_MENU.items():
        if command == "criteria_new":
            ok = True
        elif command == "coverage":
            ok = bool(roles & set(SCHOOL_WIDE_ROLES)) or bool(person.class_ids(("class_teacher",)))
        else:
            ok = any(scope_of(person, action) is not None for action in actions)
        if ok:
            allowed.append(command)
    return tuple(allowed)


def staff_menus(session: Session, channel: str) -> list[CommandMenu]:
    """A menu for every staff member reachable on `channel`."""
    return [
        CommandMenu(account, person.language, commands)
        for account, person in people.staff_on_channel(session, channel)
        if (commands := staff_commands(person))
    ]


def published_menus(session: Session, channel: str) -> dict[str, CommandMenu]:
    """The menus last given to each chat, as stored by `record_published`."""
    menus = {}
    for account, value in identity.recall_prefixed(
        session, channel, identity.MENU_KEY_PREFIX
    ).items():
        language, _, commands = value.partition(":")
        menus[account] = CommandMenu(account, language, tuple(filter(None, commands.split(","))))
    return menus


def record_published(
    session: Session,
    channel: str,
    before: dict[str, CommandMenu],
    after: dict[str, CommandMenu],
    now: datetime,
) -> None:
    """Store the chats whose menu changed between `before` and `after`."""
    for account, menu in after.items():
        if before.get(account) != menu:
            value = f"{menu.language}:{','.join(menu.commands)}"
            identity.remember(session, channel, identity.menu_key(account), value, now)
    for account in before.keys() - after.keys():
        identity.forget(session, channel, identity.menu_key(account))


class StaffMenuSync:
    """Keeps each staff chat's own menu in step with the person's roles.

    What was published is stored, so a restart (or `telegram set-commands` in another process)
    still takes a staff menu back from someone who stopped being staff meanwhile; kept only in
    memory, such a chat kept the staff commands for good."""

    def __init__(
        self, db: Database, channel: str, publish: Publish, clock: Callable[[], datetime]
    ) -> None:
        self.db = db
        self.channel = channel
        self.publish = publish
        self.clock = clock
        self._published: dict[str, CommandMenu] | None = None  # read at the first round

    async def run_once(self, *, resend: bool = False) -> tuple[int, int]:
        """Publish what changed; with `resend`, every staff menu again (the CLI's command).
        Returns (chats given their menu, chats whose staff menu was taken back)."""

        def read() -> tuple[list[CommandMenu], dict[str, CommandMenu] | None]:
            with self.db.read() as session:
                stored = None
                if self._published is None or resend:
                    stored = published_menus(session, self.channel)
                return staff_menus(session, self.channel), stored

        menus, stored = await asyncio.to_thread(read)
        if stored is not None:
            self._published = stored
        assert self._published is not None
        before = dict(self._published)
        if resend:
            wanted = {m.account for m in menus}
            for account in wanted & self._published.keys():
                del self._published[account]
        changed = await self.publish(menus, self._published)
        after = dict(self._published)
        if after != before:

            def write() -> None:
                with self.db.write() as session:
                    record_published(session, self.channel, before, after, self.clock())

            await asyncio.to_thread(write)
        taken_back = len(before.keys() - after.keys())
        return changed - taken_back, taken_back
