"""A small school for the criteria tests: classes, people joined through the memory channel,
and an outbox drained into the memory channel the way the real sender does it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.channels.memory import MemoryChannel, MemoryUser
from bot.conversation.service import ChatService
from bot.delivery.outbox import OutboxSender
from bot.engine.buttons import ButtonKind, encode
from bot.settings import Settings
from storage.db import Database
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
