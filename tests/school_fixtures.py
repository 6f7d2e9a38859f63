"""Building a small school in a real database: classes, invites, surveys, open waves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.channels.memory import MemoryChannel, MemoryUser
from bot.conversation.service import ChatService
from bot.engine.buttons import ButtonKind, encode
from bot.settings import Settings
from bot.surveys.admin import create_wave, open_wave, sync_surveys
from storage.db import Database
from storage.repositories import invites, school


@dataclass
class School:
    db: Database
    settings: Settings
    now: datetime
    service: ChatService
    channel: MemoryChannel
    class_ids: dict[str, int] = field(default_factory=dict)
    waves: dict[str, int] = field(default_factory=dict)

    def invite(
        self,
        class_name: str | None,
        role: str,
        uses: int | None = None,
        expires_days: int | None = None,
    ) -> str:
        with self.db.write() as session:
            class_id = self.class_ids[class_name] if class_name else None
            return invites.create_invite(session, class_id, role, self.now, uses, expires_days).code

    def open(self, slug: str, classes: list[str] | None = None) -> int:
        with self.db.write() as session:
            ids = [self.class_ids[c] for c in (classes or list(self.class_ids))]
            wave = create_wave(session, slug, ids, self.now)
            open_wave(session, wave.id, self.now)
        self.waves[slug] = wave.id
        return wave.id

    def join(self, user_id: str, class_name: str | None, role: str) -> MemoryUser:
        user = self.channel.user(user_id, display_name=user_id.title())
        user.send(f"/start {self.invite(class_name, role)}")
        user.press_payload(encode(ButtonKind.CONSENT, "y"))
        return user


def build_school(
    db: Database, settings: Settings, now: datetime, classes: tuple[str, ...] = ("7-А", "8-Б")
) -> School:
    with db.write() as session:
        rows = school.add_classes(session, settings.school_name, list(classes))
        sync_surveys(session)
        class_ids = {r.name: r.id for r in rows}
    service = ChatService(db, settings, clock=lambda: now, outbox_channels=frozenset())
    return School(db, settings, now, service, MemoryChannel(service), class_ids)
