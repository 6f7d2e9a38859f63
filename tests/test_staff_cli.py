"""The CLI does what staff do in chat: staff list/assign/remove/log, survey rates/nudge; chat
changes show in `classpulse staff log`."""

from __future__ import annotations

from datetime import datetime

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.context import AppContext
from bot.settings import Settings
from storage.db import Database
from tests.criteria_fixtures import CriteriaSchool
from tests.staff_fixtures import build_staff_school, open_survey, person_id, submit


@pytest.fixture
def cs(db: Database, settings: Settings, now: datetime) -> CriteriaSchool:
    return build_staff_school(db, settings.model_copy(update={"min_group_size": 1}), now)


def run(cs: CriteriaSchool, *args: str) -> str:
    app = AppContext(settings=cs.settings, clock=cs.clock)
    result = CliRunner().invoke(main, list(args), obj=app)
    assert result.exit_code == 0, result.output
    return result.output


def test_staff_changes_in_chat_and_cli_share_one_log(cs: CriteriaSchool) -> None:
    director = cs.join("director", None, "director")
    cs.join("olena", "7-А", "teacher")
    olena = person_id(cs, "olena")
    director.send("/staff")
    director.press("Olena")
    director.press("Призначити класним")
    director.press("7-Б")
    assert f"{olena:>5}  Olena: class_teacher 7-Б, teacher 7-А" in run(cs, "staff", "list")
    run(cs, "staff", "remove", str(olena), "--role", "teacher", "--class", "7-А")
    cs.advance(minutes=1)
    run(cs, "staff", "assign", str(olena), "--class", "8-В")
    log = run(cs, "staff", "log").splitlines()
    assert log[0].endswith("classpulse (CLI)  assign_class_teacher  Olena  8-В")
    assert log[1].endswith("classpulse (CLI)  remove_role  Olena  7-А  teacher")
    assert log[2].endswith("Director  assign_class_teacher  Olena  7-Б")


def test_rates_and_nudge_from_the_cli(cs: CriteriaSchool) -> None:
    for i in range(3):
        cs.join(f"p{i}", "7-А", "parent")
    wave = open_survey(cs, "assessment-parents", ["7-А"])
    submit(cs, wave, "p0", "7-А")
    assert "7-А parents: 1 of 3" in run(cs, "survey", "rates")
    assert "reminders queued for 2 people of 7-А" in run(
        cs, "survey", "nudge", "assessment-parents", "--class", "7-А"
    )
    app = AppContext(settings=cs.settings, clock=cs.clock)
    again = CliRunner().invoke(
        main, ["survey", "nudge", "assessment-parents", "--class", "7-А"], obj=app
    )
    assert again.exit_code == 1 and "within the last day" in again.output


def test_forget_takes_a_person_out_of_the_staff_audit(db: Database) -> None:
    """The audit keeps what was done; a forgotten person's name and id leave it."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from storage.models import StaffAudit
    from storage.repositories import people, staff

    now = datetime(2026, 3, 2, tzinfo=UTC)
    with db.write() as session:
        director = people.register(session, "telegram", "501", "Ганна Директорка", "uk", now)
        teacher = people.register(session, "telegram", "502", "Остап Вчитель", "uk", now)
        staff.add_audit(
            session,
            now,
            actor_id=director,
            actor_name="Ганна Директорка",
            action="assign_class_teacher",
            target_id=teacher,
            target_name="Остап Вчитель",
        )
    with db.write() as session:
        people.forget(session, teacher)
    with db.read() as session:
        (row,) = session.scalars(select(StaffAudit)).all()
        assert (row.action, row.actor_name, row.target_id) == (
            "assign_class_teacher",
            "Ганна Директорка",
            None,
        )
        assert "Остап" not in row.target_name
