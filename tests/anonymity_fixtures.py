"""The outsider's view for the anonymity tests: a school whose replies go through the outbox as
Telegram's do, respondents driven through the real engine, and every table of the database read
back the ways someone holding the file (or a dump of it) could read it."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, String, Text, inspect, text
from sqlalchemy.types import JSON, Date, DateTime

from bot.channels.memory import MemoryChannel, MemoryUser
from bot.conversation.service import ChatService
from bot.delivery.contract import ChannelLimits, Delivery, Outcome, Result
from bot.delivery.outbox import OutboxSender
from bot.engine.buttons import ButtonKind, encode
from bot.engine.events import Reply
from bot.settings import Settings
from storage.db import Database
from storage.survey_schema import SurveyDef
from tests.school_fixtures import School, build_school

CHANNEL = "telegram"  # not a local channel: invitations and reminders are queued for it too


class AckTransport:
    """The sender's transport: notices, relays, invitations reach the memory users (so their
    buttons can be pressed); replies were already shown from `ChatService.handle`, so the
    platform only says "sent"."""

    limits = ChannelLimits(per_second=1000.0, per_chat_interval=0.0, per_chat_burst=1000)

    def __init__(self, channel: MemoryChannel) -> None:
        self.memory = channel
        self.channel = channel.name
        self.delivered: list[Delivery] = []

    async def send_batch(self, deliveries: list[Delivery]) -> list[Result]:
        results = []
        for d in deliveries:
            self.delivered.append(d)
            if d.kind == "reply":
                ref = f"sent-{d.id}"
            else:
                ref = await self.memory.send(d.recipient, Reply.from_json(d.payload["reply"]))
            results.append(Result(Outcome.SENT, message_id=ref))
        return results

    def is_group(self, recipient: str) -> bool:
        return recipient.startswith("-")


@dataclass
class OutboxSchool:
    school: School
    transport: AckTransport

    @property
    def db(self) -> Database:
        return self.school.db

    def deliver(self) -> int:
        """Run the real outbox sender until nothing is due."""
        from bot.criteria.service import notice_sent

        async def sleep(seconds: float) -> None:  # pacing moves the school's clock, at once
            self.school.now += timedelta(seconds=seconds)
            await asyncio.sleep(0)

        sender = OutboxSender(
            self.db,
            {CHANNEL: self.transport},
            self.school.settings,
            clock=lambda: self.school.now,
            sleep=sleep,
            after_sent=[notice_sent],
        )
        total = 0
        while sent := asyncio.run(sender.run_once()):
            total += sent
        return total


def build_outbox_school(db: Database, settings: Settings, now: datetime) -> OutboxSchool:
    school = build_school(db, settings, now)
    school.service = ChatService(
        db, settings, clock=lambda: school.now, outbox_channels=frozenset({CHANNEL})
    )
    school.channel = MemoryChannel(school.service, name=CHANNEL)
    return OutboxSchool(school, AckTransport(school.channel))


# ---------------------------------------------------------------- respondents
def plan_answers(survey: SurveyDef, marker: str, rng: random.Random) -> dict[str, Any]:
    """Answers for every question: random options, and `marker` as every text answer."""
    plan: dict[str, Any] = {}
    for question in survey.questions:
        if question.kind == "single":
            plan[question.id] = rng.randrange(len(question.options))
        elif question.kind == "multi":
            count = rng.randint(1, len(question.options))
            plan[question.id] = sorted(rng.sample(range(len(question.options)), count))
        else:
            plan[question.id] = marker
    return plan


def answer_survey(user: MemoryUser, wave_id: int, survey: SurveyDef, plan: dict[str, Any]) -> None:
    """Start the survey, answer by pressing the buttons a messenger user would, and submit."""
    user.press_payload(encode(ButtonKind.START_SURVEY, wave_id))
    for _ in range(4 * len(survey.questions) + 4):
        position = next((r.position for r in reversed(user.inbox) if r.position), "")
        index = int(position.split(":")[1])
        if index >= len(survey.questions):
            user.press_payload(encode(ButtonKind.SUBMIT, wave_id))
            return
        question = survey.questions[index]
        value = plan[question.id]
        if question.kind == "single":
            user.press_payload(encode(ButtonKind.ANSWER, wave_id, index, value))
        elif question.kind == "multi":
            for option in value:
                user.press_payload(encode(ButtonKind.TOGGLE, wave_id, index, option))
            user.press_payload(encode(ButtonKind.DONE, wave_id, index))
        else:
            user.send(str(value))
    raise AssertionError("the survey did not reach its review")


# ---------------------------------------------------------------- the outsider's reads
def is_postgres(db: Database) -> bool:
    return not db.is_sqlite


def orders(db: Database, table: str, key: str) -> dict[str, list[Any]]:
    """The sequence of `key` in every order the database keeps `table`'s rows in: a plain scan
    (what a dump writes), the physical order (PostgreSQL ctid), the writing transaction
    (PostgreSQL xmin), and sorted by each id-like, numeric or date column. First appearance
    counts (several answer rows share a response)."""
    inspector = inspect(db.engine)
    expressions = {"scan": ""}
    if is_postgres(db):
        expressions["ctid"] = "ctid"
        expressions["xmin"] = "xmin::text::bigint"
    for column in inspector.get_columns(table):
        kind = column["type"]
        if (
            column["name"] == "id"
            or column["name"].endswith("_id")
            or isinstance(kind, Integer | Date | DateTime)
        ):
            expressions[f"by {column['name']}"] = column["name"]
    out: dict[str, list[Any]] = {}
    with db.engine.connect() as conn:
        for name, expression in expressions.items():
            order = f" ORDER BY {expression}" if expression else ""
            seen: list[Any] = []
            for (value,) in conn.execute(text(f"SELECT {key} FROM {table}{order}")):
                if value not in seen:
                    seen.append(value)
            out[name] = seen
    return out


def xmins(db: Database, table: str, key: str) -> dict[Any, set[int]]:
    """PostgreSQL: the transactions that wrote each key's rows."""
    with db.engine.connect() as conn:
        rows = conn.execute(text(f"SELECT {key}, xmin::text::bigint FROM {table}")).all()
    out: dict[Any, set[int]] = {}
    for value, xmin in rows:
        out.setdefault(value, set()).add(int(xmin))
    return out


def text_columns(db: Database) -> list[tuple[str, str]]:
    """(table, column) for every column that can hold text, JSON included, in every table."""
    inspector = inspect(db.engine)
    found = []
    for table in inspector.get_table_names():
        for column in inspector.get_columns(table):
            if isinstance(column["type"], String | Text | JSON) or "JSON" in str(column["type"]):
                found.append((table, column["name"]))
    return found


def find_text(db: Database, needle: str) -> list[tuple[str, str, str]]:
    """Every (table, column, value) whose text contains `needle`, raw or as JSON writes it."""
    import json

    needles = {needle, json.dumps(needle)[1:-1]}
    hits = []
    with db.engine.connect() as conn:
        for table, column in text_columns(db):
            cast = f"CAST({column} AS TEXT)"
            for value in conn.execute(text(f"SELECT {cast} FROM {table}")).scalars():
                if value is not None and any(n in value for n in needles):
                    hits.append((table, column, value[:200]))
    return hits


def person_references(db: Database) -> list[tuple[str, str]]:
    """(table, column) of every column that refers to people.id."""
    inspector = inspect(db.engine)
    found = []
    for table in inspector.get_table_names():
        for fk in inspector.get_foreign_keys(table):
            if fk["referred_table"] == "people":
                found.extend((table, column) for column in fk["constrained_columns"])
    return found
