"""Storage on real SQLite files: migrations, pragmas, anonymity, one response per person."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from storage.db import Database
from storage.migrate import (
    alembic_config,
    current_revisions,
    head_revisions,
    upgrade,
    upgrade_if_needed,
)
from storage.models import Base
from storage.repositories import people, responses, school, surveys, waves
from storage.survey_schema import bundled_surveys_dir, load_survey_file


@pytest.mark.sqlite_only
def test_upgrade_head_on_empty_sqlite_matches_the_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgrade(url)
    database = Database(url)
    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    database.dispose()
    assert diff == []


def test_the_head_read_from_the_files_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert head_revisions() == frozenset(heads) and len(heads) == 1


@pytest.mark.sqlite_only
def test_upgrade_if_needed_migrates_a_fresh_or_old_database_and_skips_a_current_one(
    tmp_path: Path,
) -> None:
    fresh = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert current_revisions(fresh) is None
    assert upgrade_if_needed(fresh) is True
    assert current_revisions(fresh) == head_revisions()
    assert "responses" in inspect(fresh.engine).get_table_names()
    assert upgrade_if_needed(fresh) is False
    fresh.dispose()

    old_url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(old_url, "0002")
    old = Database(old_url)
    assert current_revisions(old) == {"0002"}
    assert upgrade_if_needed(old) is True
    assert current_revisions(old) == head_revisions()
    old.dispose()


def test_a_current_database_is_not_migrated_again(db: Database) -> None:
    assert current_revisions(db) == head_revisions()
    assert upgrade_if_needed(db) is False


@pytest.mark.sqlite_only
def test_sqlite_is_tuned_for_a_bot(db: Database) -> None:
    with db.read() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert session.execute(text("PRAGMA busy_timeout")).scalar() == 10_000
        # deleted content is zeroed, not left in free space (docs/privacy.md)
        assert session.execute(text("PRAGMA secure_delete")).scalar() == 1


def test_upgrade_head_matches_the_models(db: Database) -> None:
    """Also on PostgreSQL: the migrated schema is exactly what the models say."""
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_no_column_or_join_pairs_a_response_with_a_person(db: Database) -> None:
    """Responses and answers reference only survey, wave, class: never people or identities."""
    inspector = inspect(db.engine)
    person_tables = {"people", "identities", "memberships", "completions", "drafts"}
    for table in ("responses", "answers"):
        columns = {c["name"] for c in inspector.get_columns(table)}
        assert not columns & {"person_id", "identity_id", "external_id", "created_at"}, table
        targets = {fk["referred_table"] for fk in inspector.get_foreign_keys(table)}
        assert not targets & person_tables, (table, targets)
        assert targets <= {"surveys", "waves", "classes", "responses"}
    completion_columns = {c["name"] for c in inspector.get_columns("completions")}
    assert completion_columns == {"wave_id", "person_id"}  # no id, no time
    for table in ("responses", "answers", "completions"):
        for column in inspector.get_columns(table):
            kind = str(column["type"]).upper()
            assert "DATE" not in kind and "TIME" not in kind, (table, column["name"])
            assert column["name"] != "id" or table == "responses", (table, column["name"])


def _wave(db: Database, now: datetime) -> tuple[int, int, int]:
    with db.write() as session:
        klass = school.add_classes(session, "School", ["7-А"])[0]
        survey = surveys.sync_survey(
            session, load_survey_file(bundled_surveys_dir() / "assessment-parents.yaml")
        )
        wave = waves.create_wave(session, survey.id, "w1", [klass.id], status="open")
        person = people.register(session, "memory", "p1", "P", "uk", now)
        return survey.id, wave.id, person


def test_response_ids_are_random_not_sequential(db: Database, now: datetime) -> None:
    survey_id, wave_id, _ = _wave(db, now)
    with db.write() as session:
        ids = [
            responses.add_response(
                session,
                survey_id=survey_id,
                wave_id=wave_id,
                class_id=None,
                role="parent",
                answers={"q1": 0},
            )
            for _ in range(10)
        ]
    assert len(set(ids)) == 10 and all(len(i) == 32 for i in ids)
    assert ids != sorted(ids)  # insertion order is not id order (p = 1/10! by chance)


def test_one_response_per_person_under_concurrency(db_url: str, now: datetime) -> None:
    first = Database(db_url)
    survey_id, wave_id, person = _wave(first, now)
    results: list[bool] = []

    def submit() -> None:
        database = Database(db_url)
        with database.write() as session:
            results.append(
                responses.submit(
                    session,
                    survey_id=survey_id,
                    wave_id=wave_id,
                    person_id=person,
                    class_id=None,
                    role="parent",
                    answers={"q1": 1},
                )
            )
        database.dispose()

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]
    with first.read() as session:
        assert responses.response_count(session, wave_id) == 1
    first.dispose()


def test_class_names_are_normalised(db: Database) -> None:
    with db.write() as session:
        rows = school.add_classes(session, "School", ["7-а", " 7 - А ", "7А", "10-Б"])
    assert [r.name for r in rows] == ["7-А", "7-А", "7-А", "10-Б"]


def test_database_errors_never_carry_the_stored_values(db: Database) -> None:
    """An error message (which may reach a log) shows the statement, not an answer's text."""
    from sqlalchemy.exc import IntegrityError

    from storage.models import Answer

    with pytest.raises(IntegrityError) as caught, db.write() as session:
        session.add(
            Answer(response_id="nope", wave_id=1, question_id="q8", item=0, text="secret answer")
        )
        session.flush()
    assert "secret answer" not in str(caught.value)
