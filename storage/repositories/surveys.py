"""Survey versions in the database, synced from the YAML definitions."""

from __future__ import annotations

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from storage.immutable import remembered
from storage.models import Survey
from storage.survey_schema import SurveyDef


def sync_survey(session: Session, definition: SurveyDef) -> Survey:
    """Store a definition; an edited file (new content hash) becomes a new version."""
    row = session.scalars(
        select(Survey).where(
            Survey.slug == definition.id, Survey.content_hash == definition.content_hash
        )
    ).first()
    if row is not None:
        return row
    latest = session.scalar(select(func.max(Survey.version)).where(Survey.slug == definition.id))
    row = Survey(
        slug=definition.id,
        version=(latest or 0) + 1,
        title=definition.title,
        content_hash=definition.content_hash,
        definition=definition.to_json(),
    )
    session.add(row)
    session.flush()
    return row


def latest_survey(session: Session, slug: str) -> Survey | None:
    return session.scalars(
        select(Survey).where(Survey.slug == slug).order_by(Survey.version.desc()).limit(1)
    ).first()


def survey_def(session: Session, survey_id: int) -> SurveyDef:
    row = session.get(Survey, survey_id)
    if row is None:
        raise KeyError(f"survey {survey_id} does not exist")
    return SurveyDef.from_json(row.definition, row.content_hash)


_CONTENT_HASH = select(Survey.content_hash).where(Survey.id == bindparam("survey_id"))


def survey_def_cached(session: Session, survey_id: int) -> SurveyDef:
    """`survey_def` for the per-event path: a survey version never changes, so its definition
    is parsed once per process; the content hash (one tiny read) makes the key exact."""
    content_hash = session.scalar(_CONTENT_HASH, {"survey_id": survey_id})
    if content_hash is None:
        raise KeyError(f"survey {survey_id} does not exist")
    return remembered(
        session, ("survey", survey_id, content_hash), lambda: survey_def(session, survey_id)
    )


def list_surveys(session: Session) -> list[Survey]:
    """The latest version of every survey."""
    rows = session.scalars(select(Survey).order_by(Survey.slug, Survey.version)).all()
    latest: dict[str, Survey] = {}
    for row in rows:
        latest[row.slug] = row
    return list(latest.values())
