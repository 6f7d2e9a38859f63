"""A small school for the scheduled jobs: people with Telegram/Viber accounts, waves, outbox."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.settings import Settings
from bot.waves_admin import create_wave, open_wave, sync_surveys
from storage.db import Database
from storage.models import Identity
from storage.repositories import people, responses, school
from storage.repositories.waves import get_wave
from tests.outbox_rows import OutboxRow, outbox_rows

STUDENTS = "assessment-students"


@dataclass
class JobSchool:
    db: Database
    settings: Settings
    class_ids: dict[str, int] = field(default_factory=dict)

    def person(
        self, name: str, role: str, class_name: str | None, *accounts: tuple[str, str]
    ) -> int:
        """A registered person with messenger accounts, e.g. ("telegram", "1001")."""
        with self.db.write() as session:
            channel, external_id = accounts[0]
            person_id = people.register(session, channel, external_id, name, "uk", _T0)
            for channel, external_id in accounts[1:]:
                session.add(Identity(person_id=person_id, channel=channel, external_id=external_id))
            class_id = self.class_ids[class_name] if class_name else None
            people.add_membership(session, person_id, class_id, role)
        return person_id

    def wave(
        self,
        slug: str,
        now: datetime,
        *,
        opens_at: datetime | None = None,
        closes_at: datetime | None = None,
        open_now: bool = True,
    ) -> int:
        with self.db.write() as session:
            wave = create_wave(
                session,
                slug,
                list(self.class_ids.values()),
                now,
                opens_at=opens_at,
                closes_at=closes_at,
            )
            if open_now:
                open_wave(session, wave.id, now)
        return wave.id

    def complete(self, wave_id: int, person_id: int, answer: int = 0) -> None:
        """The person submits the students' survey (one answered question is enough)."""
        with self.db.write() as session:
            wave = get_wave(session, wave_id)
            assert wave is not None
            assert responses.submit(
                session,
                survey_id=wave.survey_id,
                wave_id=wave_id,
                person_id=person_id,
                class_id=wave.class_ids[0],
                role="student",
                answers={"q2": answer, "q3": answer % 2},
            )

    def unreachable(self, channel: str, external_id: str, now: datetime) -> None:
        with self.db.write() as session:
            people.mark_unreachable(session, channel, external_id, "blocked", now)

    def outbox(self, kind: str | None = None) -> list[OutboxRow]:
        return outbox_rows(self.db, kind)


_T0 = datetime(2026, 1, 1, tzinfo=UTC)


def build_job_school(
    db: Database, settings: Settings, classes: tuple[str, ...] = ("7-А", "8-Б")
) -> JobSchool:
    with db.write() as session:
        rows = school.add_classes(session, settings.school_name, list(classes))
        sync_surveys(session)
        class_ids = {r.name: r.id for r in rows}
    return JobSchool(db, settings, class_ids)
