"""Who may do what in the staff commands: one table, read by every command and every button.

`PERMISSIONS[action][role]` is the scope a role gets: `ALL` (every class of the school), `OWN`
(the classes the person holds that role in) or absent (refused). A person with several roles
gets the widest scope of them. Buttons are checked against the same table when pressed, so a
keyboard shown to one role and pressed by another (or a tampered payload) is refused.
"""

from __future__ import annotations

from enum import StrEnum

from storage.records import ROLES, PersonInfo


class Scope(StrEnum):
    ALL = "all"
    OWN = "own"


ALL, OWN = Scope.ALL, Scope.OWN

# action -> role -> scope; an action a role is not listed for is refused.
PERMISSIONS: dict[str, dict[str, Scope]] = {
    # /report: pick a wave, get the text, chart, XLSX and DOCX
    "report": {"director": ALL, "admin": ALL, "class_teacher": OWN},
    # /rates: respondents against members per class and role, for open waves
    "rates": {"director": ALL, "admin": ALL, "class_teacher": OWN},
    # the "remind those who have not answered" button under /rates
    "nudge": {"director": ALL, "admin": ALL, "class_teacher": OWN},
    # /survey: list waves, open a survey for classes, close a wave
    "survey": {"director": ALL, "admin": ALL},
    # /invite for a family role (parent, student) of a class
    "invite": {"director": ALL, "admin": ALL, "class_teacher": OWN},
    # /invite for a staff role (teacher, class teacher, director, admin)
    "invite_staff": {"director": ALL, "admin": ALL},
    # /staff: the staff list, making a class teacher, removing a role
    "staff": {"director": ALL, "admin": ALL},
    # /staff → "import from Google Forms": last year's export as an earlier wave
    "import_forms": {"director": ALL, "admin": ALL},
}

# The command each action is reached by (for "who can do it" in refusals).
COMMANDS = {
    "report": "report",
    "rates": "rates",
    "nudge": "rates",
    "survey": "survey",
    "invite": "invite",
    "invite_staff": "invite",
    "staff": "staff",
    "import_forms": "staff",
}


def scope_of(person: PersonInfo | None, action: str) -> Scope | None:
    """The widest scope any of the person's roles gives for `action`, or None."""
    if person is None:
        return None
    granted = PERMISSIONS[action]
    scopes = {granted[r] for r in person.roles if r in granted}
    if ALL in scopes:
        return ALL
    return OWN if OWN in scopes else None


def allowed_roles(action: str) -> list[str]:
    """The roles that may do `action`, in the order of ROLES (for the refusal text)."""
    return [r for r in reversed(ROLES) if r in PERMISSIONS[action]]


def class_scope(person: PersonInfo, action: str) -> list[int] | None:
    """The class ids the person may act on: None for every class; [] for none."""
    scope = scope_of(person, action)
    if scope is ALL:
        return None
    if scope is OWN:
        roles = tuple(r for r, s in PERMISSIONS[action].items() if s is OWN)
        return person.class_ids(roles)
    return []


def may_act_on_class(person: PersonInfo, action: str, class_id: int | None) -> bool:
    scope = class_scope(person, action)
    if scope is None:
        return True
    return class_id is not None and class_id in scope
