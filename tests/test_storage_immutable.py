"""What the engine keeps between events (storage/immutable.py) never hides a change another
process made: waves opened and closed by the CLI (its own Database, as a separate process has)
are seen by the very next press, and a wave id SQLite reuses after a rollback is a new wave."""

from __future__ import annotations

from datetime import datetime

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.context import AppContext
from bot.settings import Settings
from storage.db import Database
from storage.repositories import people, waves
from storage.repositories.surveys import latest_survey, survey_def_cached
from tests.dialog import assert_dialog, press
from tests.school_fixtures import School, build_school


@pytest.fixture
def sch(db: Database, settings: Settings, now: datetime) -> School:
    return build_school(db, settings, now)


def _cli(settings: Settings, now: datetime, *args: str) -> str:
    """The CLI with its own Database: another engine and connections, as another process."""
    app = AppContext(settings=settings, clock=lambda: now)
    result = CliRunner().invoke(main, list(args), obj=app)
    app.db.dispose()
    assert result.exit_code == 0, result.output
    return result.output


def test_waves_opened_and_closed_by_the_cli_are_seen_at_the_next_press(sch: School) -> None:
    user = sch.join("olena", "7-А", "parent")
    user.send("/menu")
    assert not any("Анкета для батьків" in b.label for b in user.buttons())

    _cli(sch.settings, sch.now, "survey", "open", "assessment-parents", "--class", "7-А")
    assert_dialog(
        user,
        [
            ("/menu", ["Головне меню"]),
            (press("Анкета для батьків"), ["Крок 1 з 7"]),
            (press("Так, завжди"), ["Крок 2 з 7"]),
        ],
    )

    _cli(sch.settings, sch.now, "survey", "close", "assessment-parents")
    assert_dialog(user, [(press("Іноді"), ["опитування вже закрите"])])
    user.send("/menu")
    assert not any("Анкета для батьків" in b.label for b in user.buttons())

    # A new wave of the same survey version: a new wave, answered from its first question.
    _cli(sch.settings, sch.now, "survey", "open", "assessment-parents", "--class", "7-А")
    assert_dialog(
        user,
        [
            ("/menu", ["Головне меню"]),
            (press("Анкета для батьків"), ["Крок 1 з 7"]),
        ],
    )


def test_a_wave_id_reused_after_a_rollback_is_another_wave(sch: School) -> None:
    parent_7a = sch.builder.person("Olena", "parent", "7-А", ("memory", "p1"))
    parent_8b = sch.builder.person("Petro", "parent", "8-Б", ("memory", "p2"))
    with sch.db.read() as session:
        survey = latest_survey(session, "assessment-parents")
        assert survey is not None
        survey_id = survey.id
    memberships_7a = [(sch.class_ids["7-А"], "parent")]
    memberships_8b = [(sch.class_ids["8-Б"], "parent")]

    class Undo(Exception):
        pass

    with pytest.raises(Undo), sch.db.write() as session:
        first = waves.create_wave(session, survey_id, "a", [sch.class_ids["7-А"]], status="open")
        assert [w.id for w, _ in waves.open_waves_for(session, parent_7a, memberships_7a)] == [
            first.id
        ]
        raise Undo
    with sch.db.write() as session:
        second = waves.create_wave(session, survey_id, "b", [sch.class_ids["8-Б"]], status="open")
    if sch.db.is_sqlite:
        assert second.id == first.id  # SQLite hands the id out again (PostgreSQL does not)

    with sch.db.read() as session:
        assert waves.open_waves_for(session, parent_7a, memberships_7a) == []
        found = waves.open_waves_for(session, parent_8b, memberships_8b)
        assert [(w.id, w.label, w.class_ids) for w, _ in found] == [
            (second.id, "b", (sch.class_ids["8-Б"],))
        ]
        assert people.person_for_identity(session, "memory", "p2") is not None
        assert survey_def_cached(session, survey_id).id == "assessment-parents"
