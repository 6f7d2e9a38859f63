"""Anonymous means unlinkable (docs/privacy.md), attacked the way an outsider with the database
would: through the real flows (memory channel, real ChatService, real outbox sender), then every
table read in every order the database keeps. Runs on SQLite files and on PostgreSQL."""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from bot.channels.memory import MemoryUser
from bot.criteria.service import publish_notice
from bot.engine.buttons import ButtonKind, encode
from bot.schedule.jobs import queue_survey_reminders
from bot.settings import Settings
from bot.surveys.admin import close_wave, create_wave, open_wave
from storage.db import Database
from storage.models import Answer, Completion, Draft, OutboxMessage, Response
from storage.repositories import people, surveys, waves
from storage.survey_schema import SurveyDef
from tests.anonymity_fixtures import (
    OutboxSchool,
    answer_survey,
    build_outbox_school,
    find_text,
    is_postgres,
    orders,
    person_references,
    plan_answers,
    xmins,
)
from tests.conftest import clean_settings

RESPONDENTS = 10
SEED = 20260302  # the submission order: any seed works, the assertions do not depend on chance
PARENTS = "assessment-parents"


@pytest.fixture
def osch(db: Database, settings: Settings, now: datetime) -> OutboxSchool:
    return build_outbox_school(db, settings, now)


def survey_of(db: Database, wave_id: int) -> SurveyDef:
    with db.read() as session:
        wave = waves.get_wave(session, wave_id)
        assert wave is not None
        return surveys.survey_def(session, wave.survey_id)


@dataclass
class Wave:
    wave_id: int
    users: list[MemoryUser]
    person_of: dict[str, int]  # chat id -> person id
    marker_of: dict[str, str]  # chat id -> the text answer only that person gave
    submitted: list[str]  # chat ids in the order they submitted


def run_wave(osch: OutboxSchool, rng: random.Random, respondents: int = RESPONDENTS) -> Wave:
    """Parents of 7-А join one by one, then submit in a random order, a little apart."""
    sch = osch.school
    wave_id = sch.open(PARENTS, ["7-А"])
    survey = survey_of(sch.db, wave_id)
    users = [
        sch.join(f"chat-{i:02d}-{rng.randrange(10**6):06d}", "7-А", "parent")
        for i in range(respondents)
    ]
    with sch.db.read() as session:
        person_of = {
            u.user_id: people.person_for_identity(session, u.channel.name, u.user_id).id  # type: ignore[union-attr]
            for u in users
        }
    marker_of = {
        u.user_id: f"Моя відповідь №{i}: {rng.randrange(10**9)}" for i, u in enumerate(users)
    }
    order = rng.sample(users, len(users))
    for user in order:
        sch.now += timedelta(minutes=rng.randint(1, 90))
        answer_survey(user, wave_id, survey, plan_answers(survey, marker_of[user.user_id], rng))
    return Wave(wave_id, users, person_of, marker_of, [u.user_id for u in order])


@pytest.fixture(scope="module")
def submitted(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Submitted]:
    """One wave that RESPONDENTS parents submitted in a random order, every reply delivered;
    built once (it is most of the time of the tests that read it) and only read."""
    db = Database(module_db_url)
    settings = clean_settings(module_db_url, tmp_path_factory.mktemp("data"))
    osch = build_outbox_school(db, settings, datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    w = run_wave(osch, random.Random(SEED))
    osch.deliver()
    yield Submitted(db, module_db_url, w)
    db.dispose()


@dataclass
class Submitted:
    db: Database
    url: str
    wave: Wave


def true_pairing(db: Database, w: Wave) -> dict[int, str]:
    """person id -> response id, recovered by the test from the text only that person wrote."""
    with db.read() as session:
        by_text = dict(session.execute(select(Answer.text, Answer.response_id)).all())
    return {w.person_of[chat]: by_text[marker] for chat, marker in w.marker_of.items()}


# ---------------------------------------------------------------- order
def test_no_order_of_responses_or_answers_pairs_them_with_completions(
    submitted: Submitted,
) -> None:
    db, w = submitted.db, submitted.wave
    truth = true_pairing(db, w)
    assert len(set(truth.values())) == RESPONDENTS
    response_ids = sorted(truth.values())
    submit_order = [truth[w.person_of[chat]] for chat in w.submitted]
    assert submit_order != response_ids  # the random ids are not in submission order (1/10!)

    completion_orders = orders(db, "completions", "person_id")
    response_orders = {
        **{f"responses {k}": v for k, v in orders(db, "responses", "id").items()},
        **{f"answers {k}": v for k, v in orders(db, "answers", "response_id").items()},
    }
    if is_postgres(db):
        # What the attacker is up against is real: the completions' heap is in submit order.
        assert completion_orders["ctid"] == [w.person_of[c] for c in w.submitted]
        assert completion_orders["xmin"] == [w.person_of[c] for c in w.submitted]

    # The tables' own orders (a scan, the heap, the key) are the random ids' order; sorted by
    # any other column, ties fall back on those. None is the order of submission...
    exact = ("scan", "ctid", "by id", "by response_id")
    for name, sequence in response_orders.items():
        assert sorted(sequence) == response_ids, name
        if name.split(" ", 1)[1] in exact:
            assert sequence == response_ids, (name, "is not the order of the random ids")
        assert sequence != submit_order, name
        # ...so pairing the n-th completion with the n-th response, in any of the orders,
        # does not give the true pairing.
        for c_name, persons in completion_orders.items():
            paired = dict(zip(persons, sequence, strict=True))
            assert paired != truth, (c_name, name)

    if is_postgres(db):
        # One transaction wrote every row of the group: xmin cannot tell the newest one.
        written = xmins(db, "responses", "id") | xmins(db, "answers", "response_id")
        assert len(set().union(*written.values())) == 1, written
    else:
        for table in ("responses", "answers", "completions"):
            with pytest.raises(OperationalError, match="rowid"), db.engine.connect() as conn:
                conn.execute(text(f"SELECT rowid FROM {table}"))


def test_no_column_of_a_response_orders_or_dates_it(db: Database) -> None:
    from sqlalchemy import inspect

    inspector = inspect(db.engine)
    assert {c["name"] for c in inspector.get_columns("responses")} == {
        "id",
        "survey_id",
        "wave_id",
        "class_id",
        "role",
    }
    assert {c["name"] for c in inspector.get_columns("answers")} == {
        "response_id",
        "question_id",
        "item",
        "wave_id",
        "option_index",
        "text",
    }
    assert inspector.get_pk_constraint("answers")["constrained_columns"] == [
        "response_id",
        "question_id",
        "item",
    ]
    assert inspector.get_pk_constraint("completions")["constrained_columns"] == [
        "wave_id",
        "person_id",
    ]
    if db.is_sqlite:
        with db.engine.connect() as conn:
            ddl = dict(conn.execute(text("SELECT name, sql FROM sqlite_master")).all())
        for table in ("responses", "answers", "completions"):
            assert ddl[table].rstrip().endswith("WITHOUT ROWID"), table


@pytest.mark.sqlite_only
def test_the_bytes_of_the_file_do_not_keep_the_submit_order(submitted: Submitted) -> None:
    """Below SQL: a SQLite page keeps its cells where they were written, newest lowest. After
    every submission the group is written anew in id order, so that is the order on disk, and
    no older copy of a row is left in the page (secure_delete)."""
    db, w, db_url = submitted.db, submitted.wave, submitted.url
    truth = true_pairing(db, w)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.exec_driver_sql("PRAGMA page_size").scalar_one()
        root = conn.exec_driver_sql(
            "SELECT rootpage FROM sqlite_master WHERE name = 'responses'"
        ).scalar_one()
    data = Path(db_url.removeprefix("sqlite:///")).read_bytes()
    page = data[(root - 1) * page_size : root * page_size]
    assert page[0] == 0x0A  # one leaf page: the whole table
    assert all(page.count(r.encode()) == 1 for r in truth.values())
    newest_last = sorted(truth.values(), key=lambda r: -page.find(r.encode()))
    assert newest_last == sorted(truth.values())
    submit_order = [truth[w.person_of[chat]] for chat in w.submitted]
    assert newest_last != submit_order


# ---------------------------------------------------------------- the outbox and other places
def test_survey_replies_leave_nothing_behind_once_sent(
    osch: OutboxSchool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    db = osch.db
    w = run_wave(osch, random.Random(SEED + 2), respondents=2)
    marker = next(iter(w.marker_of.values()))
    # Queued, the echoes, the review and the thanks are there, as their delivery needs...
    pending = find_text(db, marker)
    assert {(t, c) for t, c, _ in pending} == {("answers", "text"), ("outbox", "payload")}
    assert find_text(db, "Ваша відповідь") and find_text(db, "Перевірте відповіді")
    with db.read() as session:
        queued = session.scalars(select(OutboxMessage).where(OutboxMessage.sensitive)).all()
        assert queued and all(row.person_id is None for row in queued)  # never, even queued

    osch.deliver()
    # ...and once sent they are gone: the answer's text is only in the anonymous answers.
    assert [(t, c) for t, c, _ in find_text(db, marker)] == [("answers", "text")]
    for phrase in ("Ваша відповідь", "Перевірте відповіді", "Дякуємо! Ваші відповіді"):
        assert find_text(db, phrase) == [], phrase
    for chat in w.person_of:
        hits = [(t, c) for t, c, _ in find_text(db, chat)]
        assert ("outbox", "payload") not in hits
        assert set(hits) <= {
            ("identities", "external_id"),
            ("conversations", "external_id"),
            ("outbox", "recipient"),
            ("outbox", "idempotency_key"),
        }
    with db.read() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.sensitive)).all()
        assert len(rows) == len(queued)
        for row in rows:
            assert row.status == "sent" and row.payload == {"scrubbed": True}
            assert row.person_id is None and row.recipient == ""
            assert row.external_message_id is None
            assert row.idempotency_key == f"scrubbed:{row.id}"
        # What is still sent to a chat (the menu after joining, invitations) shows no answer.
        for row in session.scalars(select(OutboxMessage).where(~OutboxMessage.sensitive)):
            assert "Ваша відповідь" not in str(row.payload)
        assert session.scalar(select(func.count()).select_from(Draft)) == 0
    logged = caplog.text + "".join(r.getMessage() for r in caplog.records)
    assert marker not in logged


@pytest.mark.parametrize("outcome", ["failed", "unreachable"])
def test_undeliverable_survey_replies_are_scrubbed_too(osch: OutboxSchool, outcome: str) -> None:
    from bot.delivery.contract import Outcome, Result

    db = osch.db
    w = run_wave(osch, random.Random(SEED + 3), respondents=1)
    marker = next(iter(w.marker_of.values()))

    async def refuse(deliveries: list) -> list[Result]:  # type: ignore[type-arg]
        if outcome == "failed":
            return [Result(Outcome.FAILED, error="400 Bad Request")] * len(deliveries)
        return [Result(Outcome.UNREACHABLE, error="Forbidden: bot was blocked")] * len(deliveries)

    osch.transport.send_batch = refuse  # type: ignore[method-assign]
    osch.deliver()
    assert [(t, c) for t, c, _ in find_text(db, marker)] == [("answers", "text")]
    with db.read() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.sensitive)).all()
        assert rows and {r.status for r in rows} <= {"failed", "dropped"}
        assert all(r.payload == {"scrubbed": True} and r.recipient == "" for r in rows)


def test_a_closed_wave_keeps_no_unfinished_answers(osch: OutboxSchool) -> None:
    sch = osch.school
    wave_id = sch.open(PARENTS, ["7-А"])
    user = sch.join("chat-half-way", "7-А", "parent")
    user.press_payload(encode(ButtonKind.START_SURVEY, wave_id))
    user.press_payload(encode(ButtonKind.ANSWER, wave_id, 0, 1))
    with sch.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Draft)) == 1
    with sch.db.write() as session:
        close_wave(session, wave_id, sch.now)
    with sch.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Draft)) == 0


# ---------------------------------------------------------------- /forget
def test_forget_leaves_no_row_that_names_the_person(osch: OutboxSchool) -> None:
    sch, db = osch.school, osch.db
    teacher = sch.join("chat-teacher-olena", "7-А", "teacher")
    first = sch.open(PARENTS, ["7-А"])
    chat, name = "chat-yaryna-5f1c9e", "Ярина Квітка-Основ'яненко"
    parent = sch.channel.user(chat, display_name=name)
    parent.send(f"/start {sch.invite('7-А', 'parent')}")
    parent.press("Погоджуюсь")
    with db.read() as session:
        person = people.person_for_identity(session, sch.channel.name, chat)
        assert person is not None
        pid = person.id
    # A criteria notice, read and asked about: receipts, a question, its relay to the teacher
    # (which carries the parent's name).
    with db.write() as session:
        teacher_id = people.person_for_identity(session, sch.channel.name, teacher.user_id)
        notice = publish_notice(
            session,
            class_ids=[sch.class_ids["7-А"]],
            subject="Математика",
            audience="parents",
            text="Контрольна: 12 балів за все правильно.",
            file=None,
            author_id=teacher_id.id if teacher_id else None,
            now=sch.now,
            settings=sch.settings,
        )
    osch.deliver()
    parent.press("Маю питання")
    parent.send("Чи рахується домашня робота, питає Ярина?")
    # A submitted survey, a survey begun in a second wave, a reminder about it, a processed
    # delivery id; everything delivered.
    survey = survey_of(db, first)
    answer_survey(parent, first, survey, plan_answers(survey, "анонімна думка", random.Random(1)))
    with db.write() as session:
        second = create_wave(
            session, PARENTS, [sch.class_ids["7-А"]], sch.now, label="весна", allow_overlap=True
        )
        open_wave(session, second.id, sch.now)
    parent.press_payload(encode(ButtonKind.START_SURVEY, second.id), event_id="u4242")
    parent.press_payload(encode(ButtonKind.ANSWER, second.id, 0, 2))
    queue_survey_reminders(db, sch.settings, sch.now + timedelta(days=3))
    osch.deliver()
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Completion)) == 1
        assert session.scalar(select(func.count()).select_from(Draft)) == 1
    assert find_text(db, chat) and find_text(db, name)  # the test can see them

    parent.send("/forget")
    parent.press("Так, видалити")
    osch.deliver()

    assert "Ваші дані видалено" in parent.last_text()
    for needle in (chat, name, f":{pid}:"):
        assert find_text(db, needle) == [], needle
    with db.engine.connect() as conn:
        for table, column in person_references(db):
            rows = conn.execute(
                text(f"SELECT COUNT(*) FROM {table} WHERE {column} = :p"), {"p": pid}
            )
            assert rows.scalar_one() == 0, (table, column)
        assert (
            conn.execute(text("SELECT COUNT(*) FROM people WHERE id = :p"), {"p": pid}).scalar_one()
            == 0
        )
    with db.read() as session:
        # The anonymous response stays, as the data notice says; the notice stays too.
        assert session.scalar(select(func.count()).select_from(Response)) == 1
        assert session.scalars(select(Answer.text).where(Answer.text.is_not(None))).all() == [
            "анонімна думка"
        ]
    assert notice.notices
    if db.is_sqlite:
        # Nor in the file's free space: deleted rows are zeroed (secure_delete), not left there.
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        raw = Path(db.engine.url.database or "").read_bytes()
        for needle in (chat, name):
            assert needle.encode() not in raw, needle


# ---------------------------------------------------------------- groups
def test_each_group_is_rewritten_alone_and_keeps_every_answer(db: Database, now: datetime) -> None:
    """Interleaved submissions to three groups (two classes of parents, teachers without a
    class): every response keeps exactly the answers it was given, in its own group."""
    from storage.repositories import responses, school
    from storage.repositories.surveys import sync_survey
    from storage.repositories.waves import create_wave as store_wave
    from storage.survey_schema import bundled_surveys_dir, load_survey_file

    rng = random.Random(SEED + 4)
    with db.write() as session:
        classes = {c.name: c.id for c in school.add_classes(session, "Ліцей", ["7-А", "8-Б"])}
        survey = sync_survey(session, load_survey_file(bundled_surveys_dir() / f"{PARENTS}.yaml"))
        wave = store_wave(session, survey.id, "w", list(classes.values()), status="open")
    groups = [(classes["7-А"], "parent"), (classes["8-Б"], "parent"), (None, "teacher")]
    given: dict[str, tuple[int | None, str, dict]] = {}  # type: ignore[type-arg]
    for i in range(12):
        class_id, role = groups[rng.randrange(3)]
        answers = {"q1": rng.randrange(4), "q4": sorted(rng.sample(range(5), 2)), "q8": f"#{i}"}
        with db.write() as session:
            person = people.register(session, "telegram", f"p{i}", f"P{i}", "uk", now)
            assert responses.submit(
                session,
                survey_id=survey.id,
                wave_id=wave.id,
                person_id=person,
                class_id=class_id,
                role=role,
                answers=answers,
            )
        given[f"#{i}"] = (class_id, role, answers)
    with db.read() as session:
        stored = session.execute(select(Response.id, Response.class_id, Response.role)).all()
        rows = session.execute(
            select(
                Answer.response_id,
                Answer.question_id,
                Answer.item,
                Answer.option_index,
                Answer.text,
            )
        ).all()
    assert len(stored) == 12
    by_response: dict[str, dict[str, list]] = {}  # type: ignore[type-arg]
    for response_id, question_id, item, option, answer_text in sorted(rows):
        by_response.setdefault(response_id, {}).setdefault(question_id, []).append(
            (item, answer_text if option is None else option)
        )
    for response_id, class_id, role in stored:
        answers = by_response[response_id]
        marker = answers["q8"][0][1]
        expected_class, expected_role, expected = given[marker]
        assert (class_id, role) == (expected_class, expected_role)
        assert answers["q1"] == [(0, expected["q1"])]
        assert answers["q4"] == list(enumerate(expected["q4"]))
    if is_postgres(db):
        written = xmins(db, "responses", "id")
        for class_id, role in groups:
            ids = [r for r, c, ro in stored if (c, ro) == (class_id, role)]
            assert len(set().union(*(written[r] for r in ids))) == 1


# ---------------------------------------------------------------- the migration
@pytest.fixture
def empty_url(tmp_path: Path) -> Iterator[str]:
    from tests import conftest

    if conftest.PG_URL:
        name = f"cp_migrating_{os.getpid()}_{next(conftest._pg_counter)}"
        conftest._pg_admin(f"CREATE DATABASE {name}")
        yield conftest._pg_url(name)
        conftest._pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    else:
        yield f"sqlite:///{tmp_path / 'migrating.db'}"


def test_migration_keeps_the_data_and_drops_the_links(empty_url: str, now: datetime) -> None:
    from alembic import command
    from sqlalchemy import MetaData

    from storage.migrate import alembic_config, upgrade
    from storage.repositories import school
    from storage.repositories.surveys import sync_survey
    from storage.survey_schema import bundled_surveys_dir, load_survey_file

    upgrade(empty_url, "0002")
    old = Database(empty_url)
    naive = now.replace(tzinfo=None)
    rng = random.Random(SEED + 5)
    with old.write() as session:
        klass = school.add_classes(session, "Ліцей", ["7-А"])[0].id
        survey = sync_survey(session, load_survey_file(bundled_surveys_dir() / f"{PARENTS}.yaml"))
        persons = [
            people.register(session, "telegram", f"c{i}", f"P{i}", "uk", now) for i in range(6)
        ]
    tables = MetaData()
    tables.reflect(old.engine)
    t = tables.tables
    # Waves as 0002 stored them: today's model has columns 0002 does not.
    wave_ids = {}
    with old.engine.begin() as conn:
        for label in ("open", "closed"):
            wave = (
                t["waves"]
                .insert()
                .values(
                    survey_id=survey.id, label=label, status=label, created_at=naive, source="bot"
                )
            )
            wave_ids[label] = conn.execute(wave).inserted_primary_key[0]
            conn.execute(t["wave_classes"].insert().values(wave_id=wave_ids[label], class_id=klass))
    open_id, closed_id = wave_ids["open"], wave_ids["closed"]
    response_ids = [f"{rng.getrandbits(128):032x}" for _ in range(5)]
    with old.engine.begin() as conn:
        # Written in submission order, as 0002 did: responses, answers and completions alike.
        for i, response_id in enumerate(response_ids):
            conn.execute(t["completions"].insert().values(wave_id=open_id, person_id=persons[i]))
            conn.execute(
                t["responses"]
                .insert()
                .values(
                    id=response_id,
                    survey_id=survey.id,
                    wave_id=open_id,
                    class_id=klass,
                    role="parent",
                    submitted_on=naive.date(),
                )
            )
            for option in (3, 1) if i % 2 else (2,):
                conn.execute(
                    t["answers"]
                    .insert()
                    .values(
                        response_id=response_id,
                        wave_id=open_id,
                        question_id="q4",
                        option_index=option,
                        text=None,
                    )
                )
            conn.execute(
                t["answers"]
                .insert()
                .values(
                    response_id=response_id,
                    wave_id=open_id,
                    question_id="q8",
                    option_index=None,
                    text=f"текст {i}",
                )
            )
        outbox = t["outbox"]
        base = {
            "channel": "telegram",
            "urgent": True,
            "attempts": 1,
            "next_attempt_at": naive,
            "created_at": naive,
            "sent_at": None,
            "external_message_id": None,
        }
        conn.execute(
            outbox.insert(),
            [
                {
                    **base,
                    "recipient": "c0",
                    "person_id": persons[0],
                    "kind": "reply",
                    "payload": {"reply": {"text": "1. Питання\n\nВаша відповідь: так"}},
                    "idempotency_key": "r:telegram:c0:u1:0",
                    "status": "sent",
                    "sent_at": naive,
                    "external_message_id": "77",
                },
                {
                    **base,
                    "recipient": "c1",
                    "person_id": persons[1],
                    "kind": "reply",
                    "payload": {"reply": {"text": "Перевірте відповіді"}},
                    "idempotency_key": "r:telegram:c1:u2:0",
                    "status": "pending",
                },
                {
                    **base,
                    "recipient": "c2",
                    "person_id": persons[2],
                    "kind": "invitation",
                    "payload": {"reply": {"text": "Нове опитування"}},
                    "idempotency_key": f"inv:{open_id}:{persons[2]}:telegram:c2",
                    "status": "sent",
                },
            ],
        )
        conn.execute(
            t["conversations"]
            .insert()
            .values(
                channel="telegram",
                external_id="c3",
                state={"mode": "idle", "lang": "", "data": {}},
                version=41,
                updated_at=naive,
            )
        )
        for wave_id in (open_id, closed_id):
            conn.execute(
                t["drafts"]
                .insert()
                .values(
                    wave_id=wave_id,
                    person_id=persons[5],
                    class_id=klass,
                    answers={"q1": 1},
                    position=1,
                    updated_at=naive,
                )
            )
        # What /forget used to leave: person 4's identity went, its row and its sent rows stayed.
        conn.execute(t["identities"].delete().where(t["identities"].c.person_id == persons[4]))
        conn.execute(
            outbox.insert().values(
                **base,
                recipient="c4",
                person_id=persons[4],
                kind="reply",
                payload={"reply": {"text": "Дякуємо!"}},
                idempotency_key="r:telegram:c4:u9:0",
                status="sent",
            )
        )
        old_answers = sorted(
            (r.response_id, r.question_id, r.option_index, r.text)
            for r in conn.execute(t["answers"].select().order_by(t["answers"].c.id))
        )
    old.dispose()

    upgrade(empty_url)
    db = Database(empty_url)
    with db.engine.connect() as conn:
        scan = list(conn.execute(text("SELECT id FROM responses")).scalars())
        assert scan == sorted(response_ids)  # not the order they were written in
        if is_postgres(db):
            assert list(
                conn.execute(text("SELECT id FROM responses ORDER BY ctid")).scalars()
            ) == sorted(response_ids)
        answers = conn.execute(
            text("SELECT response_id, question_id, item, option_index, text FROM answers")
        ).all()
        assert sorted((r, q, o, x) for r, q, _, o, x in answers) == old_answers
        items = {(r, q): [] for r, q, *_ in answers}  # type: ignore[var-annotated]
        for r, q, item, option, _ in answers:
            items[(r, q)].append((item, option))
        for i, response_id in enumerate(response_ids):
            expected = [(0, 3), (1, 1)] if i % 2 else [(0, 2)]
            assert sorted(items[(response_id, "q4")]) == expected  # in the order they were stored
        completions = conn.execute(text("SELECT wave_id, person_id FROM completions")).all()
        assert sorted(completions) == [(open_id, p) for p in persons[:4]]  # person 4 is gone
        assert (
            conn.execute(
                text("SELECT COUNT(*) FROM people WHERE id = :p"), {"p": persons[4]}
            ).scalar_one()
            == 0
        )
        rows = {
            r.idempotency_key: r for r in conn.execute(text("SELECT * FROM outbox ORDER BY id"))
        }
        assert len(rows) == 3
        scrubbed = next(r for k, r in rows.items() if k.startswith("scrubbed:"))
        assert (scrubbed.recipient, scrubbed.person_id, scrubbed.external_message_id) == (
            "",
            None,
            None,
        )
        assert "Ваша відповідь" not in str(scrubbed.payload) and "scrubbed" in str(scrubbed.payload)
        assert bool(rows["r:telegram:c1:u2:0"].sensitive)  # queued: scrubbed when it is sent
        assert "scrubbed" not in str(rows["r:telegram:c1:u2:0"].payload)
        invitation = rows[f"inv:{open_id}:{persons[2]}:telegram:c2"]
        assert not invitation.sensitive and invitation.recipient == "c2"
        assert conn.execute(text("SELECT state FROM conversations")).scalar_one() is not None
        drafts = conn.execute(text("SELECT wave_id FROM drafts")).scalars().all()
        assert drafts == [open_id]
    db.dispose()

    # And back, and up again.
    command.downgrade(alembic_config(empty_url), "0002")
    back = Database(empty_url)
    with back.engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT COUNT(*) FROM responses WHERE submitted_on IS NOT NULL")
            ).scalar_one()
            == 5
        )
        assert conn.execute(text("SELECT COUNT(*) FROM answers")).scalar_one() == len(old_answers)
    back.dispose()
    upgrade(empty_url)
