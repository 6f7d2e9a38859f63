"""Staff work from the messenger: the staff list, role changes, the audit log, nudges and
report requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from storage.models import (
    FormsImportRequest,
    Membership,
    Person,
    ReportRequest,
    SchoolClass,
    StaffAudit,
)
from storage.records import STAFF_ROLES, AuditEntry, StaffMember

# ---------------------------------------------------------------- staff


def staff_members(session: Session) -> list[StaffMember]:
    """Everyone with a staff role, by name, with each role and its class."""
    rows = session.execute(
        select(
            Person.id, Person.display_name, Membership.role, Membership.class_id, SchoolClass.name
        )
        .join(Membership, Membership.person_id == Person.id)
        .outerjoin(SchoolClass, SchoolClass.id == Membership.class_id)
        .where(Membership.role.in_(STAFF_ROLES))
        .order_by(Person.display_name, Person.id, Membership.role, SchoolClass.name)
    ).all()
    members: dict[int, tuple[str, list[tuple[str, int | None, str]]]] = {}
    for pid, name, role, class_id, class_name in rows:
        members.setdefault(pid, (name, []))[1].append((role, class_id, class_name or ""))
    return [StaffMember(pid, name, tuple(roles)) for pid, (name, roles) in members.items()]


def has_membership(session: Session, person_id: int, class_id: int | None, role: str) -> bool:
    found = session.scalar(
        select(Membership.id).where(
            Membership.person_id == person_id,
            Membership.role == role,
            Membership.class_id.is_(None) if class_id is None else Membership.class_id == class_id,
        )
    )
    return found is not None


def remove_membership(session: Session, person_id: int, class_id: int | None, role: str) -> bool:
    result = session.execute(
        delete(Membership).where(
            Membership.person_id == person_id,
            Membership.role == role,
            Membership.class_id.is_(None) if class_id is None else Membership.class_id == class_id,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def count_with_role(session: Session, role: str) -> int:
    return len(set(session.scalars(select(Membership.person_id).where(Membership.role == role))))


# ---------------------------------------------------------------- audit
def add_audit(
    session: Session,
    now: datetime,
    *,
    actor_id: int | None,
    actor_name: str,
    action: str,
    target_id: int | None = None,
    target_name: str = "",
    class_id: int | None = None,
    wave_id: int | None = None,
    detail: str = "",
) -> None:
    session.add(
        StaffAudit(
            at=now,
            actor_id=actor_id,
            actor_name=actor_name[:200],
            action=action,
            target_id=target_id,
            target_name=target_name[:200],
            class_id=class_id,
            wave_id=wave_id,
            detail=detail[:500],
        )
    )
    session.flush()


def audit_log(session: Session, limit: int = 100) -> list[AuditEntry]:
    """The latest entries, newest first."""
    rows = session.execute(
        select(
            StaffAudit.at,
            StaffAudit.actor_name,
            StaffAudit.action,
            StaffAudit.target_name,
            SchoolClass.name,
            StaffAudit.wave_id,
            StaffAudit.detail,
        )
        .outerjoin(SchoolClass, SchoolClass.id == StaffAudit.class_id)
        .order_by(StaffAudit.at.desc(), StaffAudit.id.desc())
        .limit(limit)
    ).all()
    return [AuditEntry(r[0], r[1], r[2], r[3], r[4] or "", r[5], r[6]) for r in rows]


def last_action_at(session: Session, action: str, wave_id: int, class_id: int) -> datetime | None:
    """When `action` (a nudge) was last done for this wave and class."""
    return session.scalar(
        select(StaffAudit.at)
        .where(
            StaffAudit.action == action,
            StaffAudit.wave_id == wave_id,
            StaffAudit.class_id == class_id,
        )
        .order_by(StaffAudit.at.desc())
        .limit(1)
    )


# ---------------------------------------------------------------- report requests
@dataclass(frozen=True)
class ReportRequestInfo:
    id: int
    person_id: int
    channel: str
    external_id: str
    language: str
    wave_id: int | None  # None: every survey at once
    class_id: int | None
    done: bool


def add_report_request(
    session: Session,
    *,
    person_id: int,
    channel: str,
    external_id: str,
    language: str,
    wave_id: int | None,
    class_id: int | None,
    now: datetime,
) -> int:
    row = ReportRequest(
        person_id=person_id,
        channel=channel,
        external_id=external_id,
        language=language,
        wave_id=wave_id,
        class_id=class_id,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row.id


def get_report_request(session: Session, request_id: int) -> ReportRequestInfo | None:
    row = session.get(ReportRequest, request_id)
    if row is None:
        return None
    return ReportRequestInfo(
        row.id,
        row.person_id,
        row.channel,
        row.external_id,
        row.language,
        row.wave_id,
        row.class_id,
        row.done_at is not None,
    )


def pending_report_requests(session: Session, before: datetime) -> list[int]:
    """Requests not done, made before `before`."""
    return list(
        session.scalars(
            select(ReportRequest.id)
            .where(ReportRequest.done_at.is_(None), ReportRequest.created_at < before)
            .order_by(ReportRequest.id)
        )
    )


def finish_report_request(session: Session, request_id: int, now: datetime) -> bool:
    """Mark done; False when another process did it first."""
    result = session.execute(
        update(ReportRequest)
        .where(ReportRequest.id == request_id, ReportRequest.done_at.is_(None))
        .values(done_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- Forms import requests
@dataclass(frozen=True)
class FormsImportInfo:
    id: int
    person_id: int
    channel: str
    external_id: str
    language: str
    survey_slug: str
    wave_label: str | None
    file_ref: str
    file_name: str


def add_forms_import_request(
    session: Session,
    *,
    person_id: int,
    channel: str,
    external_id: str,
    language: str,
    survey_slug: str,
    wave_label: str | None,
    file_ref: str,
    file_name: str,
    now: datetime,
) -> int:
    row = FormsImportRequest(
        person_id=person_id,
        channel=channel,
        external_id=external_id,
        language=language,
        survey_slug=survey_slug,
        wave_label=wave_label,
        file_ref=file_ref,
        file_name=file_name,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row.id


def get_forms_import_request(session: Session, request_id: int) -> FormsImportInfo | None:
    row = session.get(FormsImportRequest, request_id)
    if row is None:
        return None
    return FormsImportInfo(
        row.id,
        row.person_id,
        row.channel,
        row.external_id,
        row.language,
        row.survey_slug,
        row.wave_label,
        row.file_ref,
        row.file_name,
    )


def pending_forms_imports(session: Session, channel: str) -> list[int]:
    """The requests of `channel` not yet imported nor answered, oldest first."""
    return list(
        session.scalars(
            select(FormsImportRequest.id)
            .where(FormsImportRequest.channel == channel)
            .order_by(FormsImportRequest.id)
        )
    )


def finish_forms_import_request(session: Session, request_id: int) -> bool:
    """Delete it; False when another process finished it first (then this transaction must
    store nothing of its own import)."""
    result = session.execute(delete(FormsImportRequest).where(FormsImportRequest.id == request_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]
