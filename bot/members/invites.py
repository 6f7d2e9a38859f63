"""Creating invites: the code, both deep links, and a QR code PNG."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from bot.channels.capabilities import invite_links
from bot.files.private import private_dir, private_file
from bot.members.identity import bot_identity
from bot.settings import Settings
from storage.db import Database
from storage.models import SCHOOL_WIDE_ROLES
from storage.repositories import invites, school


class InviteError(Exception):
    pass


@dataclass(frozen=True)
class CreatedInvite:
    code: str
    telegram_link: str
    viber_link: str
    qr_path: Path | None  # None: no link works yet, so no QR code was written
    notes: list[str] = field(default_factory=list)


def _class_id(session: Session, class_name: str | None) -> int | None:
    if not class_name:
        return None
    row = school.class_by_name(session, class_name)
    if row is None:
        raise InviteError(f"no class '{class_name}' (add it with `classpulse class add`)")
    return row.id


def one_time_code(db: Database, class_name: str | None, role: str, now: datetime) -> str:
    """A single-use invite code, e.g. for `classpulse chat --as parent --class 7-А`; an
    unknown class is refused (InviteError), never created."""
    if role in SCHOOL_WIDE_ROLES:
        class_name = None
    elif not class_name:
        raise InviteError(f"--class is required for role {role}")
    with db.write() as session:
        class_id = _class_id(session, class_name)
        return invites.create_invite(session, class_id, role, now, max_uses=1).code


def create_invite(
    db: Database,
    settings: Settings,
    class_name: str | None,
    role: str,
    uses: int | None,
    expires_days: int | None,
    now: datetime,
) -> CreatedInvite:
    if role in SCHOOL_WIDE_ROLES:
        class_name = None
    elif not class_name:
        raise InviteError(f"--class is required for role {role}")
    with db.write() as session:
        class_id = _class_id(session, class_name)
        code = invites.create_invite(session, class_id, role, now, uses, expires_days).code
        me = bot_identity(session, settings)
    links = invite_links(code, me.telegram_username, me.viber_uri)
    qr_path = None
    if links.for_qr:
        private_dir(settings.data_dir)
        qr_dir = private_dir(settings.data_dir / "qr")
        qr_path = qr_dir / f"invite-{code}.png"
        import qrcode  # qrcode and Pillow (~4 MiB) load only when an invite is made

        qrcode.make(links.for_qr).save(str(qr_path))
        private_file(qr_path)
    return CreatedInvite(code, links.telegram, links.viber, qr_path, list(links.notes))
