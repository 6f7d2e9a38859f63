"""Build the one `Report` every renderer (text, json, xlsx, docx, png) reads.

    report = build_report(db, options)                        # every survey's open/last wave
    report = build_report(db, options, ["assessment-students"], wave_label="2024-2025",
                          class_name="7-А")

Gaps compare the role groups (teacher, student, parent) over all the waves in the report: each
role answers its own questionnaire, the constructs are shared.

Small groups (class x role) are left out of every figure, in every report and format alike:
see analytics/suppression.py for the rule and why it is safe.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from analytics import constructs
from analytics.aggregate import Scope, WaveCounts, load_wave_counts, slice_filters
from analytics.criteria_gap import criteria_vs_understanding
from analytics.distribution import question_results
from analytics.labels import COMPARED_ROLES, role_group
from analytics.options import AnalyticsOptions
from analytics.rates import response_rates
from analytics.records import HiddenGroup, RateRow, Report, SurveyResult, TrendResult
from analytics.trend import construct_changes, option_changes
from analytics.waves_select import ReportError, previous_wave, select_waves
from storage.db import Database
from storage.repositories import analytics as repo
from storage.repositories.school import class_by_name, class_names
from storage.repositories.surveys import survey_def
from storage.repositories.waves import WaveInfo, list_waves

__all__ = ["Report", "ReportError", "build_report"]


def _scope(session: Session, class_name: str | None, role: str | None) -> Scope:
    if role is not None and role not in COMPARED_ROLES:
        raise ReportError(f"unknown role '{role}' (expected one of {', '.join(COMPARED_ROLES)})")
    if class_name is None:
        return Scope(role=role)
    row = class_by_name(session, class_name)
    if row is None:
        raise ReportError(f"unknown class '{class_name}'")
    return Scope(class_id=row.id, class_name=row.name, role=role)


def _counts(session: Session, wave: WaveInfo, scope: Scope, k: int) -> WaveCounts:
    return load_wave_counts(session, wave, survey_def(session, wave.survey_id), scope, k)


def _hidden_groups(session: Session, data: WaveCounts) -> tuple[HiddenGroup, ...]:
    ids = [c for c, _ in data.hidden if c is not None]
    names = class_names(session, ids) if ids else {}
    return tuple(
        HiddenGroup(names.get(c, "?") if c is not None else None, group) for c, group in data.hidden
    )


def _survey_result(session: Session, data: WaveCounts, scope: Scope, k: int) -> SurveyResult:
    wave = data.wave
    exclude = slice_filters(data.hidden)

    def texts(question_id: str) -> list[tuple[str, int]]:
        return repo.text_answer_counts(
            session,
            wave.id,
            question_id,
            class_id=scope.class_id,
            roles=scope.roles,
            exclude=exclude,
        )

    return SurveyResult(
        id=wave.slug,
        title=data.survey.title,
        wave=wave.label,
        status=wave.status,
        source=wave.source,
        respondents=data.total_respondents,
        respondents_by_role=dict(data.respondents),
        questions=question_results(data, k, texts),
        audience=data.survey.audience,
        hidden_groups=_hidden_groups(session, data),
    )


def _trend(
    session: Session,
    current: WaveCounts,
    result: SurveyResult,
    all_waves: list[WaveInfo],
    scope: Scope,
    k: int,
) -> TrendResult | None:
    before = previous_wave(all_waves, current.wave)
    if before is None:
        return None
    old = _counts(session, before, scope, k)
    old_result = _survey_result(session, old, scope, k)
    now_shares = constructs.shares(constructs.positive_table([current]))
    old_shares = constructs.shares(constructs.positive_table([old]))
    return TrendResult(
        survey=result.id,
        wave=result.wave,
        previous_wave=before.label,
        options=tuple(option_changes(result.questions, old_result.questions)),
        constructs=tuple(construct_changes(now_shares, old_shares)),
    )


def build_report(
    db: Database,
    options: AnalyticsOptions,
    survey_slugs: list[str] | None = None,
    wave_label: str | None = None,
    class_name: str | None = None,
    role: str | None = None,
    now: datetime | None = None,
) -> Report:
    """Aggregate the chosen waves (default: every survey's open or latest wave) into a Report.

    Raises ReportError for an unknown survey, wave, class or role.
    """
    k = options.min_group_size
    with db.read() as session:
        scope = _scope(session, class_name, role)
        all_waves = list_waves(session)
        chosen = select_waves(all_waves, survey_slugs, wave_label)
        if scope.role is not None:
            chosen = [w for w in chosen if any(role_group(r) == scope.role for r in w.audience)]
            if not chosen:
                raise ReportError(f"no survey is answered by role '{scope.role}'")
        datas: list[WaveCounts] = []
        surveys: list[SurveyResult] = []
        rates: list[RateRow] = []
        trends: list[TrendResult] = []
        for wave in chosen:
            data = _counts(session, wave, scope, k)
            result = _survey_result(session, data, scope, k)
            datas.append(data)
            surveys.append(result)
            rates.extend(response_rates(session, wave, scope, k, set(data.hidden)))
            trend = _trend(session, data, result, all_waves, scope, k)
            if trend is not None:
                trends.append(trend)
        gaps = constructs.gaps(constructs.positive_table(datas))
        understood = criteria_vs_understanding(session, chosen, scope, k)
    return Report(
        school_name=options.school_name,
        generated_at=(now or datetime.now(UTC)).astimezone(options.tz),
        min_group_size=k,
        surveys=tuple(surveys),
        gaps=gaps,
        response_rates=tuple(rates),
        trend=tuple(trends),
        class_name=scope.class_name,
        role=scope.role,
        criteria_vs_understanding=understood,
    )
