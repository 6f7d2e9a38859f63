"""The criteria flow's view of the database (`CriteriaView`), inside the event's transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from bot.criteria.flows import family_role
from bot.criteria.rendering import AUDIENCE_ROLES, CriteriaConfig, NoticeView, Plan, notice_view
from bot.criteria.service import (
    CoverageRow,
    coverage,
    coverage_class_ids,
    may_answer,
    publishable_class_ids,
    same_subject,
    with_link,
)
from bot.settings import Settings
from bot.usage.cost import estimate
from storage.records import STAFF_ROLES, NoticeInfo, PersonInfo, QuestionInfo
from storage.repositories import criteria as repo
from storage.repositories import people, school


class DbCriteriaView:
    """Reads for one event's person; `person` is the world's (loaded once per event)."""

    def __init__(
        self,
        session: Session,
        channel: str,
        external_id: str,
        person: Callable[[], PersonInfo | None],
        config: CriteriaConfig,
        settings: Settings | None = None,
        now: datetime | None = None,
    ) -> None:
        self.session = session
        self.channel = channel
        self.external_id = external_id
        self._person_of = person
        self._config = config
        self._settings = settings  # with it, the plan says what the notice costs
        self._now = now or datetime.now(UTC)

    def _person(self) -> PersonInfo:
        person = self._person_of()
        assert person is not None  # the engine only asks for registered people
        return person

    def config(self) -> CriteriaConfig:
        return self._config

    def publishable(self) -> list[tuple[int, str]]:
        ids = publishable_class_ids(self.session, self._person())
        names = school.class_names(self.session, ids)
        return sorted(((cid, names[cid]) for cid in ids if cid in names), key=lambda x: x[1])

    def plan(self, class_ids: list[int], audience: str, subject: str) -> Plan:
        names = school.class_names(self.session, class_ids)
        roles = AUDIENCE_ROLES[audience]
        found = {
            cid: people.recipients(self.session, [cid], roles) for cid in class_ids if cid in names
        }
        counts = {names[cid]: len({r.person_id for r in rs}) for cid, rs in found.items()}
        replaces = tuple(
            sorted(names[cid] for cid in names if same_subject(self.session, cid, subject))
        )
        if self._settings is None:
            return Plan(counts, replaces)
        accounts = [(r.channel, r.external_id) for rs in found.values() for r in rs]
        cost = estimate(self.session, accounts, self._now, self._settings)
        return Plan(
            counts,
            replaces,
            paid=cost.paid,
            free=cost.free,
            over_limit=cost.over_limit,
            cost=tuple(cost.params().items()),
        )

    def notice(self, notice_id: int) -> NoticeInfo | None:
        return repo.get_notice(self.session, notice_id)

    def current(self, class_id: int, subject: str) -> NoticeInfo | None:
        found = same_subject(self.session, class_id, subject)
        return found[-1] if found else None

    def acknowledged(self, notice_id: int) -> bool:
        delivery = repo.get_delivery(self.session, notice_id, self._person().id)
        return delivery is not None and delivery.acknowledged_at is not None

    def for_person(self) -> list[tuple[NoticeInfo, bool]]:
        """Current notices the person may read, and whether they acknowledged each."""
        person = self._person()
        class_ids = None if person.is_school_wide else person.class_ids()
        result = []
        for notice in repo.current_notices(self.session, class_ids):
            staff_here = notice.class_id in person.class_ids(STAFF_ROLES)
            if person.is_school_wide or staff_here or family_role(person, notice) is not None:
                result.append((notice, self.acknowledged(notice.id)))
        return result

    def question(self, question_id: int) -> QuestionInfo | None:
        return repo.get_question(self.session, question_id)

    def may_answer(self, notice_id: int) -> bool:
        notice = repo.get_notice(self.session, notice_id)
        return notice is not None and may_answer(self._person(), notice)

    def relay_question(self, reply_to_ref: str) -> int | None:
        # The Telegram adapter gives "chat_id:message_id"; the outbox may hold either form.
        candidates = sorted({reply_to_ref, reply_to_ref.rsplit(":", 1)[-1]})
        return repo.question_for_relay(self.session, self.channel, self.external_id, candidates)

    def shown(self, notice: NoticeInfo) -> NoticeView:
        view = notice_view(notice)
        if self._settings is None:
            return view
        return with_link(self.session, view, {self.channel}, self._now, self._settings)

    def coverage(self) -> tuple[list[CoverageRow], dict[int, list[str]]] | None:
        class_ids = coverage_class_ids(self.session, self._person())
        if class_ids is None:
            return None
        allowed = set(class_ids)
        rows = [r for r in coverage(self.session) if r.class_id in allowed]
        names: dict[int, list[str]] = {}
        if self._config.show_names:
            names = {
                r.notice_id: repo.not_acknowledged_names(self.session, r.notice_id) for r in rows
            }
        return rows, names
