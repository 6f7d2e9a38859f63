"""A small school for the criteria tests: classes, people joined through the memory channel,
and an outbox drained into the memory channel the way the real sender does it."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.channels.memory import MemoryChannel, MemoryUser
from bot.conversation.service import ChatService
from bot.delivery.outbox import OutboxSender
from bot.engine.buttons import ButtonKind, encode
from bot.settings import Settings
from storage.db import Database
from tests.conftest import clean_settings, clone_db_url
from tests.outbox_rows import OutboxRow, outbox_rows
from tests.school import SchoolBuilder


@dataclass
class CriteriaSchool:
    db: Database
    settings: Settings
    now: datetime
    service: ChatService
    channel: MemoryChannel
    class_ids: dict[str, int] = field(default_factory=dict)

    def clock(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def join(self, user_id: str, class_name: str | None, role: str) -> MemoryUser:
        code = SchoolBuilder(self.db, self.settings, self.class_ids).invite(
            class_name, role, self.now
        )
        user = self.channel.user(user_id, display_name=user_id.title())
        user.send(f"/start {code}")
        user.press_payload(encode(ButtonKind.CONSENT, "y"))
        user.inbox.clear()
        return user

    def deliver(self) -> int:
        """Send what the outbox holds for the memory channel; returns how many were sent."""
        from bot.criteria.service import notice_sent

        sender = OutboxSender(
            self.db,
            {self.channel.name: self.channel},
            self.settings,
            clock=self.clock,
            after_sent=[notice_sent],
        )
        total = 0
        while True:
            sent = asyncio.run(sender.run_once())
            total += sent
            if not sent:
                return total

    def outbox(self, kind: str | None = None) -> list[OutboxRow]:
        return outbox_rows(self.db, kind)


def build(db: Database, settings: Settings, now: datetime) -> CriteriaSchool:
    class_ids = SchoolBuilder.create(db, settings, ("7-А", "7-Б", "8-В")).class_ids
    holder: list[CriteriaSchool] = []
    service = ChatService(db, settings, clock=lambda: holder[0].now, outbox_channels=frozenset())
    world = CriteriaSchool(db, settings, now, service, MemoryChannel(service), class_ids)
    holder.append(world)
    return world


@dataclass
class Families:
    """7-А: a teacher, a class teacher, two students, two parents; 7-Б: a teacher, a parent."""

    teacher: MemoryUser
    class_teacher: MemoryUser
    students: list[MemoryUser]
    parents: list[MemoryUser]
    other_teacher: MemoryUser
    other_parent: MemoryUser


def populate(cs: CriteriaSchool) -> Families:
    return Families(
        teacher=cs.join("olena", "7-А", "teacher"),
        class_teacher=cs.join("iryna", "7-А", "class_teacher"),
        students=[cs.join("taras", "7-А", "student"), cs.join("sofia", "7-А", "student")],
        parents=[cs.join("maria", "7-А", "parent"), cs.join("petro", "7-А", "parent")],
        other_teacher=cs.join("oksana", "7-Б", "teacher"),
        other_parent=cs.join("ivan", "7-Б", "parent"),
    )


# ---------------------------------------------------------------- filled once per module
# Joining the eight family members is 16 chat events: most of a criteria test's time. A module
# fills one database once (`fill_once`); each test then gets its own copy of the file and the
# members' chats as they were (`restore`), so the tests still share nothing they could change.


FILL_NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # the tests' `now` (tests/conftest.py)


@dataclass(frozen=True)
class Filled:
    """A school filled once: its database (nothing connected to it) and its chats' state."""

    url: str
    now: datetime
    class_ids: dict[str, int]
    users: tuple[MemoryUser, ...]  # as the filling left them; copied by `restore`
    next_ref: int  # the memory channel's next message number


def fill_once(
    url: str, data_dir: Path, now: datetime, fill: Callable[[CriteriaSchool], object]
) -> Filled:
    """Build the school in the (fresh) database at `url` and `fill` it."""
    db = Database(url)
    try:
        cs = build(db, clean_settings(url, data_dir), now)
        fill(cs)
        return Filled(
            url,
            cs.now,
            dict(cs.class_ids),
            tuple(cs.channel.users.values()),
            next(cs.channel.counter),
        )
    finally:
        db.dispose()


# The modules' fixtures (db_url, cs) call these two: a test that asks for `fam` gets a copy of
# the module's `filled` school; one that asks only for `cs` gets an empty school, as before.
@contextmanager
def school_db_url(request: pytest.FixtureRequest, fresh_url: str, tmp_path: Path) -> Iterator[str]:
    """With `fam`: a fresh copy of the module's filled database; otherwise `fresh_url`."""
    if "fam" not in request.fixturenames:
        yield fresh_url
        return
    filled: Filled = request.getfixturevalue("filled")
    directory = tmp_path / "filled"
    directory.mkdir()
    with clone_db_url(filled.url, directory) as url:
        yield url


def school(
    request: pytest.FixtureRequest, db: Database, settings: Settings, now: datetime
) -> CriteriaSchool:
    """With `fam`: the module's filled school restored on `db`; otherwise an empty one."""
    if "fam" not in request.fixturenames:
        return build(db, settings, now)
    filled: Filled = request.getfixturevalue("filled")
    assert filled.now == now, "the module filled its school at another time than `now`"
    return restore(filled, db, settings)


def restore(filled: Filled, db: Database, settings: Settings) -> CriteriaSchool:
    """The filled school on `db` (a `filled_copy`), its members' chats as the filling left them."""
    holder: list[CriteriaSchool] = []
    service = ChatService(db, settings, clock=lambda: holder[0].now, outbox_channels=frozenset())
    channel = MemoryChannel(service)
    channel.counter = itertools.count(filled.next_ref)
    for u in filled.users:
        channel.users[u.user_id] = MemoryUser(
            channel, u.user_id, u.display_name, list(u.inbox), dict(u.messages), u.last_ref
        )
    world = CriteriaSchool(db, settings, filled.now, service, channel, dict(filled.class_ids))
    holder.append(world)
    return world


def families(cs: CriteriaSchool) -> Families:
    """The members `populate` joined, from a restored school."""
    users = cs.channel.users
    return Families(
        teacher=users["olena"],
        class_teacher=users["iryna"],
        students=[users["taras"], users["sofia"]],
        parents=[users["maria"], users["petro"]],
        other_teacher=users["oksana"],
        other_parent=users["ivan"],
    )


def module_fixtures(fill: Callable[[CriteriaSchool], object] = populate) -> tuple[Any, ...]:
    """The four fixtures of a criteria test module, over a school `fill`ed once per module:

        filled, db_url, cs, fam = module_fixtures()

    `filled` (module scope) builds the school; a test that asks for `fam` gets `db_url` as a
    copy of it and `cs` restored from it, one that asks only for `cs` an empty school."""

    @pytest.fixture(scope="module")
    def filled(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Filled:
        return fill_once(module_db_url, tmp_path_factory.mktemp("data"), FILL_NOW, fill)

    @pytest.fixture
    def db_url(db_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
        with school_db_url(request, db_url, tmp_path) as url:
            yield url

    @pytest.fixture
    def cs(
        request: pytest.FixtureRequest, db: Database, settings: Settings, now: datetime
    ) -> CriteriaSchool:
        return school(request, db, settings, now)

    @pytest.fixture
    def fam(cs: CriteriaSchool) -> Families:
        return families(cs)

    return filled, db_url, cs, fam
