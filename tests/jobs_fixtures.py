"""A small school for the scheduled jobs: people with Telegram/Viber accounts, waves, outbox."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.settings import Settings
from storage.db import Database
from storage.repositories import people
from tests.outbox_rows import OutboxRow, outbox_rows
from tests.school import SchoolBuilder

STUDENTS = "assessment-students"


@dataclass
class JobSchool:
    db: Database
    settings: Settings
    class_ids: dict[str, int] = field(default_factory=dict)

    @property
    def builder(self) -> SchoolBuilder:
        return SchoolBuilder(self.db, self.settings, self.class_ids)

    def person(
        self, name: str, role: str, class_name: str | None, *accounts: tuple[str, str]
    ) -> int:
        """A registered person with messenger accounts, e.g. ("telegram", "1001")."""
        return self.builder.person(name, role, class_name, *accounts, now=_T0)

    def wave(
        self,
        slug: str,
        now: datetime,
        *,
        opens_at: datetime | None = None,
        closes_at: datetime | None = None,
        open_now: bool = True,
    ) -> int:
        return self.builder.wave(
            slug, now, opens_at=opens_at, closes_at=closes_at, open_now=open_now
        )

    def complete(self, wave_id: int, person_id: int, answer: int = 0) -> None:
        """The person submits the students' survey (one answered question is enough)."""
        self.builder.submit(wave_id, person_id, "student", {"q2": answer, "q3": answer % 2})

    def unreachable(self, channel: str, external_id: str, now: datetime) -> None:
        with self.db.write() as session:
            people.mark_unreachable(session, channel, external_id, "blocked", now)

    def outbox(self, kind: str | None = None) -> list[OutboxRow]:
        return outbox_rows(self.db, kind)


_T0 = datetime(2026, 1, 1, tzinfo=UTC)


def build_job_school(
    db: Database, settings: Settings, classes: tuple[str, ...] = ("7-А", "8-Б")
) -> JobSchool:
    return JobSchool(db, settings, SchoolBuilder.create(db, settings, classes).class_ids)
