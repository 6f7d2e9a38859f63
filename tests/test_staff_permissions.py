"""The permission matrix of the staff commands: every role × every command and button, as one
table, run through the real engine. A refusal is polite and names who may do it."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.engine.buttons import ButtonKind, encode
from bot.settings import Settings
from bot.staff.permissions import PERMISSIONS
from storage.db import Database
from storage.records import ROLES
from tests.criteria_fixtures import CriteriaSchool
from tests.staff_fixtures import build_staff_school, open_survey, person_id

REFUSED = "доступна лише"
COMMANDS = ("report", "rates", "survey", "invite", "staff")

# role -> commands it may use: the documented matrix (bot/staff/permissions.py must agree).
MATRIX: dict[str, set[str]] = {
    "student": set(),
    "parent": set(),
    "teacher": set(),
    "class_teacher": {"report", "rates", "invite"},
    "director": {"report", "rates", "survey", "invite", "staff"},
    "admin": {"report", "rates", "survey", "invite", "staff"},
}


@pytest.fixture
def cs(db: Database, settings: Settings, now: datetime) -> CriteriaSchool:
    return build_staff_school(db, settings, now)


def test_the_table_in_code_is_the_documented_matrix() -> None:
    for role in ROLES:
        allowed = {c for c in COMMANDS if role in PERMISSIONS[c]}
        assert allowed == MATRIX[role], role


@pytest.mark.parametrize("role", ROLES)
def test_every_role_and_command(cs: CriteriaSchool, role: str) -> None:
    class_name = None if role in ("director", "admin") else "7-А"
    user = cs.join(f"u-{role}", class_name, role)
    for command in COMMANDS:
        said = "\n".join(r.text for r in user.send(f"/{command}"))
        if command in MATRIX[role]:
            assert REFUSED not in said, (role, command, said)
        else:
            assert REFUSED in said, (role, command, said)
            assert "директор" in said  # it says who can do it


def test_tampered_buttons_are_refused(cs: CriteriaSchool) -> None:
    teacher = cs.join("iryna", "7-А", "class_teacher")
    parent = cs.join("maria", "7-А", "parent")
    plain = cs.join("olena", "7-А", "teacher")
    wave = open_survey(cs, "assessment-parents", ["7-А", "7-Б"])
    a, b = cs.class_ids["7-А"], cs.class_ids["7-Б"]
    maria = person_id(cs, "maria")
    director_only = [
        encode(ButtonKind.SURVEY_PICK, 0),
        encode(ButtonKind.SURVEY_CLASS, a),
        encode(ButtonKind.SURVEY_STEP, "confirm"),
        encode(ButtonKind.SURVEY_CLOSE, wave),
        encode(ButtonKind.STAFF, "rm1", maria, a),
        encode(ButtonKind.STAFF, "ct", maria, a),
        encode(ButtonKind.INVITE, 0, 5),  # a school-wide invite (director)
        encode(ButtonKind.INVITE, a, 2),  # a teacher's invite
        encode(ButtonKind.REPORT, wave, 0),  # the whole school's report
        encode(ButtonKind.NUDGE, wave, b),  # another class
        encode(ButtonKind.REPORT, wave, b),
        encode(ButtonKind.INVITE, b, 1),
    ]
    table = [(teacher, p) for p in director_only] + [
        (user, p)
        for user in (parent, plain)
        for p in [
            *director_only,
            encode(ButtonKind.NUDGE, wave, a),
            encode(ButtonKind.INVITE, a, 1),
        ]
    ]
    for user, payload in table:
        said = "\n".join(r.text for r in user.press_payload(payload))
        assert REFUSED in said, (user.user_id, payload, said)
    assert cs.outbox("reminder") == []
