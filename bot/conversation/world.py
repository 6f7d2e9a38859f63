"""`DbWorld`: the engine's read-only view of storage, inside the caller's transaction."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from sqlalchemy.orm import Session

from bot.channels.capabilities import capabilities
from bot.criteria.reader import DbCriteriaView
from bot.criteria.rendering import CriteriaConfig
from bot.engine.core import OpenWave
from bot.settings import Settings
from bot.staff.reader import DbStaffView
from storage.records import DraftInfo, InviteInfo, PersonInfo, WaveInfo
from storage.repositories import conversations, invites, people, responses, surveys, waves
from storage.survey_schema import SurveyDef


class DbWorld:
    """Implements `bot.engine.World`, the criteria flow's `CriteriaWorld` and the staff
    flows' `StaffWorld`."""

    def __init__(
        self,
        session: Session,
        channel: str,
        external_id: str,
        now: datetime,
        *,
        school_name: str,
        default_language: str,
        criteria_config: CriteriaConfig,
        min_group_size: int = 5,
        tz: tzinfo = UTC,
        settings: Settings | None = None,
        shown: str = "",
    ) -> None:
        self.session = session
        self.channel = channel
        self.external_id = external_id
        self.now = now
        self.school_name = school_name
        self.default_language = default_language
        self._person: PersonInfo | None = None
        self._person_loaded = False
        self._surveys: dict[int, SurveyDef] = {}
        self._open_waves: list[OpenWave] | None = None
        self._shown = shown  # the conversation row's `shown`, read with its state
        self.criteria = DbCriteriaView(
            session, channel, external_id, self.person, criteria_config, settings, now
        )
        self.staff = DbStaffView(session, min_group_size, tz)

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
            self._surveys[survey_id] = surveys.survey_def_cached(self.session, survey_id)
        return self._surveys[survey_id]

    def draft(self, wave_id: int) -> DraftInfo | None:
        person = self.person()
        if person is None:
            return None
        return responses.get_draft(self.session, wave_id, person.id, for_update=True)

    def completed(self, wave_id: int) -> bool:
        person = self.person()
        return person is not None and responses.is_completed(self.session, wave_id, person.id)

    def message_showing(self, position: str) -> str:
        make_ref = capabilities(self.channel).sent_ref
        if make_ref is None:
            return ""
        found = conversations.shown_in(self._shown, position)
        return make_ref(self.external_id, found) if found else ""
