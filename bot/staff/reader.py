"""The staff flows' view of the database (`StaffView`), inside the event's transaction."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, tzinfo

from sqlalchemy.orm import Session

from bot.channels.capabilities import capabilities
from bot.staff.flows import class_order
from storage.records import AuditEntry, RateLine, StaffMember, WaveInfo, WaveRates
from storage.repositories import analytics as analytics_repo
from storage.repositories import people, school, staff, surveys, waves


class DbStaffView:
    def __init__(self, session: Session, min_group_size: int, tz: tzinfo = UTC) -> None:
        self.session = session
        self.k = min_group_size
        self.tz = tz
        self._classes: list[tuple[int, str]] | None = None

    def classes(self) -> list[tuple[int, str]]:
        if self._classes is None:
            names = school.class_names(self.session).items()
            self._classes = sorted(names, key=lambda x: class_order(x[1]))
        return self._classes

    def report_waves(self) -> list[WaveInfo]:
        return [w for w in reversed(waves.list_waves(self.session)) if w.status != "scheduled"]

    def _wave_rates(self, wave: WaveInfo, class_ids: list[int] | None) -> WaveRates:
        from analytics.aggregate import Scope
        from analytics.labels import role_group
        from analytics.rates import response_rates
        from analytics.suppression import is_small

        per_slice: Counter[tuple[int | None, str]] = Counter()
        for class_id, role, n in analytics_repo.respondent_counts(self.session, wave.id):
            per_slice[(class_id, role_group(role))] += n
        hidden = {s for s, n in per_slice.items() if is_small(n, self.k)}
        names = dict(self.classes())
        lines: list[RateLine] = []
        for class_id in sorted(wave.class_ids, key=lambda c: names.get(c, "")):
            if class_ids is not None and class_id not in class_ids:
                continue
            scope = Scope(class_id=class_id, class_name=names.get(class_id))
            for row in response_rates(self.session, wave, scope, self.k, hidden):
                if row.registered is None:  # an imported wave: no rates
                    continue
                lines.append(
                    RateLine(
                        class_id,
                        names.get(class_id, "?"),
                        row.role,
                        row.registered,
                        None if row.suppressed else row.completed,
                    )
                )
        return WaveRates(wave, tuple(lines))

    def rates(self, class_ids: list[int] | None) -> list[WaveRates]:
        out = []
        for wave in waves.list_waves(self.session, "open"):
            if class_ids is not None and not set(wave.class_ids) & set(class_ids):
                continue
            out.append(self._wave_rates(wave, class_ids))
        return out

    def last_nudge(self, wave_id: int, class_id: int) -> datetime | None:
        return staff.last_action_at(self.session, "nudge", wave_id, class_id)

    def surveys(self) -> list[tuple[str, str]]:
        latest: dict[str, str] = {}
        for row in surveys.list_surveys(self.session):
            latest[row.slug] = row.title
        return sorted(latest.items())

    def audit(self, limit: int) -> list[AuditEntry]:
        return staff.audit_log(self.session, limit)

    def current_waves(self) -> list[WaveRates]:
        found = waves.list_waves(self.session, "open") + waves.list_waves(self.session, "scheduled")
        return [self._wave_rates(w, None) for w in found if w.source != "import"]

    def preview(self, slug: str, class_ids: list[int]) -> dict[str, int] | None:
        survey = surveys.latest_survey(self.session, slug)
        if survey is None:
            return None
        audience = tuple(surveys.survey_def(self.session, survey.id).audience)
        counts: Counter[str] = Counter()
        for r in people.recipients(self.session, class_ids, audience):
            if not capabilities(r.channel).local:  # as open_wave invites them
                counts[r.channel] += 1
        return dict(counts)

    def staff(self) -> list[StaffMember]:
        return staff.staff_members(self.session)

    def local(self, when: datetime) -> datetime:
        return when.astimezone(self.tz)
