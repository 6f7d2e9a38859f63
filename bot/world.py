"""`DbWorld`: the engine's read-only view of storage, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.engine.core import OpenWave
from bot.settings import Settings
from storage.repositories import invites, people, responses, surveys, waves
from storage.repositories.invites import InviteInfo
from storage.repositories.people import PersonInfo
from storage.repositories.responses import DraftInfo
from storage.repositories.waves import WaveInfo
from storage.survey_schema import SurveyDef

Reader = Callable[..., Any]
# Flow-specific readers (e.g. criteria notices): name -> fn(world, *args).
READERS: dict[str, Reader] = {}


def reader(name: str) -> Callable[[Reader], Reader]:
    def register(fn: Reader) -> Reader:
        READERS[name] = fn
        return fn

    return register


class DbWorld:
    def __init__(
        self,
        session: Session,
        channel: str,
        external_id: str,
        now: datetime,
        settings: Settings,
    ) -> None:
        self.session = session
        self.channel = channel
        self.external_id = external_id
        self.now = now
        self.settings = settings
        self.school_name = settings.school_name
        self.default_language: str = settings.bot_language
        self._person: PersonInfo | None = None
        self._person_loaded = False
        self._surveys: dict[int, SurveyDef] = {}
        self._open_waves: list[OpenWave] | None = None

    def person(self) -> PersonInfo | None:
        if not self._person_loaded:
            self._person = people.person_for_identity(self.session, self.channel, self.external_id)
            self._person_loaded = True
        return self._person

    def invite(self, code: str) -> InviteInfo:
        return invites.lookup_invite(self.session, code, self.now)

    def open_waves(self) -> list[OpenWave]:
        # Asked several times per event (menu, survey guard): read once.
        if self._open_waves is None:
            person = self.person()
            memberships = [(m.class_id, m.role) for m in person.memberships] if person else []
            self._open_waves = (
                [
                    OpenWave(wave, matching[0][0], matching[0][1], tuple(matching))
                    for wave, matching in waves.open_waves_for(self.session, person.id, memberships)
                ]
                if person
                else []
            )
        return self._open_waves

    def wave(self, wave_id: int) -> WaveInfo | None:
        return waves.get_wave(self.session, wave_id)

    def survey(self, survey_id: int) -> SurveyDef:
        if survey_id not in self._surveys:
            self._surveys[survey_id] = surveys.survey_def(self.session, survey_id)
        return self._surveys[survey_id]

    def draft(self, wave_id: int) -> DraftInfo | None:
        person = self.person()
        if person is None:
            return None
        return responses.get_draft(self.session, wave_id, person.id, for_update=True)

    def completed(self, wave_id: int) -> bool:
        person = self.person()
        return person is not None and responses.is_completed(self.session, wave_id, person.id)

    def lookup(self, name: str, *args: Any) -> Any:
        return READERS[name](self, *args)
