"""Building a small school in a real database: classes, invites, surveys, open waves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.channels.memory import MemoryChannel, MemoryUser
from bot.conversation.service import ChatService
from bot.engine.buttons import ButtonKind, encode
from bot.settings import Settings
from storage.db import Database
from tests.school import SchoolBuilder


@dataclass
class School:
    db: Database
    settings: Settings
    now: datetime
    service: ChatService
    channel: MemoryChannel
    class_ids: dict[str, int] = field(default_factory=dict)
    waves: dict[str, int] = field(default_factory=dict)

    @property
    def builder(self) -> SchoolBuilder:
        return SchoolBuilder(self.db, self.settings, self.class_ids)

    def invite(
        self,
        class_name: str | None,
        role: str,
        uses: int | None = None,
        expires_days: int | None = None,
    ) -> str:
        return self.builder.invite(class_name, role, self.now, uses, expires_days)

    def open(self, slug: str, classes: list[str] | None = None) -> int:
        wave_id = self.builder.wave(slug, self.now, classes or None)
        self.waves[slug] = wave_id
        return wave_id

    def join(self, user_id: str, class_name: str | None, role: str) -> MemoryUser:
        user = self.channel.user(user_id, display_name=user_id.title())
        user.send(f"/start {self.invite(class_name, role)}")
        user.press_payload(encode(ButtonKind.CONSENT, "y"))
        return user


def build_school(
    db: Database, settings: Settings, now: datetime, classes: tuple[str, ...] = ("7-А", "8-Б")
) -> School:
    builder = SchoolBuilder.create(db, settings, classes)
    service = ChatService(db, settings, clock=lambda: now, outbox_channels=frozenset())
    return School(db, settings, now, service, MemoryChannel(service), builder.class_ids)
