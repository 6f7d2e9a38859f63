"""Waves: a survey run for some classes, scheduled -> open -> closed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from storage.immutable import remembered
from storage.models import Completion, Survey, Wave, WaveClass
from storage.records import WaveInfo

STATUSES = ("scheduled", "open", "closed")


def _class_ids(session: Session, wave_ids: list[int]) -> dict[int, tuple[int, ...]]:
    found: dict[int, list[int]] = {w: [] for w in wave_ids}
    rows = session.execute(
        select(WaveClass.wave_id, WaveClass.class_id)
        .where(WaveClass.wave_id.in_(wave_ids))
        .order_by(WaveClass.class_id)
    )
    for wave_id, class_id in rows:
        found[wave_id].append(class_id)
    return {w: tuple(ids) for w, ids in found.items()}


def _info(
    session: Session, wave: Wave, survey: Survey, class_ids: tuple[int, ...] | None = None
) -> WaveInfo:
    if class_ids is None:
        class_ids = _class_ids(session, [wave.id])[wave.id]
    return WaveInfo(
        id=wave.id,
        survey_id=survey.id,
        slug=survey.slug,
        title=survey.title,
        label=wave.label,
        status=wave.status,
        opens_at=wave.opens_at,
        closes_at=wave.closes_at,
        class_ids=class_ids,
        audience=tuple(survey.definition.get("audience", ())),
        source=wave.source,
    )


def create_wave(
    session: Session,
    survey_id: int,
    label: str,
    class_ids: list[int],
    *,
    status: str = "scheduled",
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    source: str = "bot",
    import_hash: str | None = None,
) -> WaveInfo:
    wave = Wave(
        survey_id=survey_id,
        label=label,
        status=status,
        opens_at=opens_at,
        closes_at=closes_at,
        source=source,
        import_hash=import_hash,
    )
    session.add(wave)
    session.flush()
    for class_id in sorted(set(class_ids)):
        session.add(WaveClass(wave_id=wave.id, class_id=class_id))
    session.flush()
    return get_wave(session, wave.id)  # type: ignore[return-value]


def get_wave(session: Session, wave_id: int) -> WaveInfo | None:
    row = session.execute(
        select(Wave, Survey).join(Survey, Survey.id == Wave.survey_id).where(Wave.id == wave_id)
    ).first()
    return _info(session, row[0], row[1]) if row else None


def find_wave(session: Session, slug: str, label: str | None = None) -> WaveInfo | None:
    """A survey's wave by label, or its newest wave."""
    query = (
        select(Wave, Survey).join(Survey, Survey.id == Wave.survey_id).where(Survey.slug == slug)
    )
    if label is not None:
        query = query.where(Wave.label == label)
    row = session.execute(query.order_by(Wave.id.desc()).limit(1)).first()
    return _info(session, row[0], row[1]) if row else None


def waves_of(session: Session, slug: str) -> list[WaveInfo]:
    """Every wave of a survey (all its versions), oldest first."""
    rows = session.execute(
        select(Wave, Survey)
        .join(Survey, Survey.id == Wave.survey_id)
        .where(Survey.slug == slug)
        .order_by(Wave.id)
    ).all()
    classes = _class_ids(session, [w.id for w, _ in rows]) if rows else {}
    return [_info(session, w, s, classes[w.id]) for w, s in rows]


def list_waves(session: Session, status: str | None = None) -> list[WaveInfo]:
    query = select(Wave, Survey).join(Survey, Survey.id == Wave.survey_id)
    if status is not None:
        query = query.where(Wave.status == status)
    rows = session.execute(query.order_by(Wave.id)).all()
    classes = _class_ids(session, [w.id for w, _ in rows]) if rows else {}
    return [_info(session, w, s, classes[w.id]) for w, s in rows]


def set_status(session: Session, wave_id: int, status: str, now: datetime) -> bool:
    """Move a wave to `status`; False if it was already there (idempotent jobs)."""
    if status not in STATUSES:
        raise ValueError(f"unknown wave status {status}")
    values: dict[str, object] = {"status": status}
    if status == "open":
        values["opens_at"] = now
    if status == "closed":
        values["closes_at"] = now
    result = session.execute(
        update(Wave).where(Wave.id == wave_id, Wave.status != status).values(**values)
    )
    return bool(getattr(result, "rowcount", 0))


def set_final_report_due(session: Session, wave_id: int, due: datetime | None) -> None:
    """When the wave's final report is next to be tried (None: it was queued, or none is owed)."""
    session.execute(update(Wave).where(Wave.id == wave_id).values(final_report_due=due))


def final_reports_due(session: Session, now: datetime) -> list[int]:
    """Closed waves whose final report is owed and due by `now`, oldest first."""
    return list(
        session.scalars(
            select(Wave.id)
            .where(Wave.status == "closed", Wave.final_report_due <= now)
            .order_by(Wave.id)
        )
    )


# Open waves a person has not completed: the wave's own columns only (the status and dates
# change, so they are read every event); classes and survey come from storage/immutable.py.
_OPEN_NOT_COMPLETED = (
    select(
        Wave.id,
        Wave.survey_id,
        Wave.label,
        Wave.status,
        Wave.opens_at,
        Wave.closes_at,
        Wave.created_at,
        Wave.source,
    )
    .where(
        Wave.status == "open",
        ~select(Completion.wave_id)
        .where(Completion.wave_id == Wave.id, Completion.person_id == bindparam("person_id"))
        .exists(),
    )
    .order_by(Wave.id)
)


@dataclass(frozen=True)
class _Fixed:
    """What a wave never changes: its survey (a version is immutable) and its classes."""

    slug: str
    title: str
    audience: tuple[str, ...]
    class_ids: tuple[int, ...]


def _fixed(session: Session, wave_id: int, survey_id: int) -> _Fixed:
    survey = session.get(Survey, survey_id)
    assert survey is not None  # a foreign key
    return _Fixed(
        survey.slug,
        survey.title,
        tuple(survey.definition.get("audience", ())),
        _class_ids(session, [wave_id])[wave_id],
    )


def open_waves_for(
    session: Session, person_id: int, memberships: list[tuple[int | None, str]]
) -> list[tuple[WaveInfo, list[tuple[int | None, str]]]]:
    """Open waves this person may answer and has not completed, each with the (class, role)
    memberships it applies to (a parent of two children may have two classes in one wave).

    Asked on every event: one light query; a wave's classes and survey are read once per
    process (keyed with its creation time: an id SQLite reuses after a rollback is another
    wave)."""
    out: list[tuple[WaveInfo, list[tuple[int | None, str]]]] = []
    for row in session.execute(_OPEN_NOT_COMPLETED, {"person_id": person_id}):
        wave_id, survey_id, label, status, opens_at, closes_at, created_at, source = row
        fixed = remembered(
            session,
            ("wave", wave_id, survey_id, created_at),
            lambda w=wave_id, s=survey_id: _fixed(session, w, s),  # type: ignore[misc]
        )
        matching: list[tuple[int | None, str]] = [
            (class_id, role)
            for class_id, role in memberships
            if role in fixed.audience and class_id in fixed.class_ids
        ]
        if matching:
            wave = WaveInfo(
                id=wave_id,
                survey_id=survey_id,
                slug=fixed.slug,
                title=fixed.title,
                label=label,
                status=status,
                opens_at=opens_at,
                closes_at=closes_at,
                class_ids=fixed.class_ids,
                audience=fixed.audience,
                source=source,
            )
            out.append((wave, matching))
    return out


def next_label(session: Session, survey_slug: str, now: datetime) -> str:
    """A readable, unique wave label such as `2026-11` or `2026-11-2`."""
    base = now.strftime("%Y-%m")
    labels = set(
        session.scalars(
            select(Wave.label)
            .join(Survey, Survey.id == Wave.survey_id)
            .where(Survey.slug == survey_slug)
        )
    )
    if base not in labels:
        return base
    n = 2
    while f"{base}-{n}" in labels:
        n += 1
    return f"{base}-{n}"
