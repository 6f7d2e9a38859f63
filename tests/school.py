"""The one school builder of the tests: classes, the bundled surveys, invites, waves and people
in a real database. Every test school (dialogs, criteria, jobs, Telegram, Viber) starts here."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from bot.settings import Settings
from bot.surveys.admin import create_wave, open_wave
from storage.db import Database
from storage.models import Identity
from storage.repositories import invites, people, responses, school, surveys
from storage.repositories.waves import get_wave
from storage.survey_schema import SurveyDef, bundled_surveys_dir, load_survey_file

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@functools.cache
def bundled_surveys() -> tuple[SurveyDef, ...]:
    """The questionnaires of surveys/, read once per test process: parsing their YAML was a
    good part of every test school's set-up, and the files do not change during a run."""
    return tuple(load_survey_file(p) for p in sorted(bundled_surveys_dir().glob("*.yaml")))


def store_bundled_surveys(session: Session) -> None:
    """What `sync_surveys` stores for surveys/ (tested on its own by the CLI tests)."""
    for definition in bundled_surveys():
        surveys.sync_survey(session, definition)


@dataclass
class SchoolBuilder:
    db: Database
    settings: Settings
    class_ids: dict[str, int] = field(default_factory=dict)

    @classmethod
    def create(
        cls, db: Database, settings: Settings, classes: tuple[str, ...] = ("7-А", "8-Б")
    ) -> SchoolBuilder:
        """The classes, and every questionnaire in surveys/ stored as a survey."""
        with db.write() as session:
            rows = school.add_classes(session, settings.school_name, list(classes))
            store_bundled_surveys(session)
            return cls(db, settings, {r.name: r.id for r in rows})

    def class_id(self, class_name: str | None) -> int | None:
        return self.class_ids[class_name] if class_name else None

    def invite(
        self,
        class_name: str | None,
        role: str,
        now: datetime = T0,
        uses: int | None = None,
        expires_days: int | None = None,
    ) -> str:
        with self.db.write() as session:
            return invites.create_invite(
                session, self.class_id(class_name), role, now, uses, expires_days
            ).code

    def wave(
        self,
        slug: str,
        now: datetime = T0,
        classes: list[str] | None = None,
        *,
        opens_at: datetime | None = None,
        closes_at: datetime | None = None,
        open_now: bool = True,
        label: str | None = None,
    ) -> int:
        """A wave of the survey `slug` for `classes` (default: all), opened now unless told."""
        names = classes if classes is not None else list(self.class_ids)
        with self.db.write() as session:
            wave = create_wave(
                session,
                slug,
                [self.class_ids[c] for c in names],
                now,
                opens_at=opens_at,
                closes_at=closes_at,
                label=label,
            )
            if open_now:
                open_wave(session, wave.id, now)
            return wave.id

    def person(
        self,
        name: str,
        role: str,
        class_name: str | None,
        *accounts: tuple[str, str],
        now: datetime = T0,
    ) -> int:
        """A registered person with messenger accounts, e.g. ("telegram", "1001")."""
        with self.db.write() as session:
            channel, external_id = accounts[0]
            person_id = people.register(session, channel, external_id, name, "uk", now)
            for channel, external_id in accounts[1:]:
                session.add(Identity(person_id=person_id, channel=channel, external_id=external_id))
            people.add_membership(session, person_id, self.class_id(class_name), role)
            return person_id

    def submit(self, wave_id: int, person_id: int, role: str, answers: dict[str, object]) -> None:
        """The person's response to the wave, stored as the engine's submit stores it (in the
        wave's first class)."""
        with self.db.write() as session:
            wave = get_wave(session, wave_id)
            assert wave is not None
            assert responses.submit(
                session,
                survey_id=wave.survey_id,
                wave_id=wave_id,
                person_id=person_id,
                class_id=wave.class_ids[0],
                role=role,
                answers=answers,
            )
