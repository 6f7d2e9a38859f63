"""The school and its classes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import School, SchoolClass

MAX_CLASS_NAME = 40


class ClassNameError(ValueError):
    pass


def normalise_class_name(name: str) -> str:
    """`7-а`, ` 7 - А ` and `7А` are the same class: `7-А`."""
    cleaned = "".join(name.split()).upper()
    if not cleaned or len(cleaned) > MAX_CLASS_NAME or not any(c.isalnum() for c in cleaned):
        raise ClassNameError(f"'{name}' is not a class name (e.g. 7-А)")
    if cleaned[0].isdigit() and "-" not in cleaned:
        digits = len(cleaned) - len(cleaned.lstrip("0123456789"))
        if 0 < digits < len(cleaned):
            cleaned = f"{cleaned[:digits]}-{cleaned[digits:]}"
    return cleaned


def ensure_school(session: Session, name: str) -> School:
    school = session.scalars(select(School).order_by(School.id).limit(1)).first()
    if school is None:
        school = School(name=name)
        session.add(school)
        session.flush()
    return school


def add_classes(session: Session, school_name: str, names: list[str]) -> list[SchoolClass]:
    """Create the classes that do not exist yet; return all named ones."""
    school = ensure_school(session, school_name)
    result = []
    for raw in names:
        name = normalise_class_name(raw)
        row = session.scalars(
            select(SchoolClass).where(SchoolClass.school_id == school.id, SchoolClass.name == name)
        ).first()
        if row is None:
            row = SchoolClass(school_id=school.id, name=name)
            session.add(row)
            session.flush()
        result.append(row)
    return result


def class_by_name(session: Session, name: str) -> SchoolClass | None:
    try:
        wanted = normalise_class_name(name)
    except ClassNameError:
        return None
    return session.scalars(select(SchoolClass).where(SchoolClass.name == wanted)).first()


def class_names(session: Session, ids: list[int] | None = None) -> dict[int, str]:
    query = select(SchoolClass.id, SchoolClass.name)
    if ids is not None:
        query = query.where(SchoolClass.id.in_(ids))
    return {row.id: row.name for row in session.execute(query)}


def list_classes(session: Session) -> list[SchoolClass]:
    return list(session.scalars(select(SchoolClass).order_by(SchoolClass.name)))
