"""The staff commands each staff member sees in the messenger's command menu ("/" in Telegram).

Families see the same few commands everywhere; a class teacher or the director also finds
their own, so that nobody has to remember `/rates` or `/staff`. What a person sees follows the
permission table (bot/staff/permissions.py): a command they would be refused is not offered.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.channels.capabilities import CommandMenu
from bot.staff.permissions import scope_of
from storage.records import SCHOOL_WIDE_ROLES, STAFF_ROLES, PersonInfo
from storage.repositories import people

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
