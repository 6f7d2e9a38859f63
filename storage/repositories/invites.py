"""Invite codes: random, unguessable, safe in Telegram and Viber deep links."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models import Invite, SchoolClass
from storage.records import InviteInfo, looks_like_code, new_code

__all__ = ["InviteInfo", "looks_like_code", "new_code"]


def create_invite(
    session: Session,
    class_id: int | None,
    role: str,
    now: datetime,
    max_uses: int | None = None,
    expires_days: int | None = None,
) -> Invite:
    invite = Invite(
        code=new_code(),
        class_id=class_id,
        role=role,
        max_uses=max_uses,
        expires_at=now + timedelta(days=expires_days) if expires_days else None,
        uses=0,
        created_at=now,
    )
    session.add(invite)
    session.flush()
    return invite


def lookup_invite(session: Session, code: str, now: datetime) -> InviteInfo:
    if not looks_like_code(code):
        return InviteInfo(code=code[:40], status="unknown")
    row = session.execute(
        select(Invite, SchoolClass.name)
        .outerjoin(SchoolClass, SchoolClass.id == Invite.class_id)
        .where(Invite.code == code)
    ).first()
    if row is None:
        return InviteInfo(code=code, status="unknown")
    invite, class_name = row
    status = "ok"
    if invite.expires_at is not None and invite.expires_at <= now:
        status = "expired"
    elif invite.max_uses is not None and invite.uses >= invite.max_uses:
        status = "used_up"
    return InviteInfo(code, status, invite.role, invite.class_id, class_name or "")


def consume_invite(session: Session, code: str) -> bool:
    """Count one use; False when it was used up meanwhile (conditional update, race-safe)."""
    result = session.execute(
        update(Invite)
        .where(Invite.code == code)
        .where((Invite.max_uses.is_(None)) | (Invite.uses < Invite.max_uses))
        .values(uses=Invite.uses + 1)
    )
    return bool(getattr(result, "rowcount", 0))
