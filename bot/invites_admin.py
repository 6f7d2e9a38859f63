"""Creating invites: the code, both deep links, and a QR code PNG."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import qrcode

from bot.links import telegram_deep_link, viber_deep_link
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
    qr_path: Path
    notes: list[str] = field(default_factory=list)


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
        class_id = None
        if class_name:
            row = school.class_by_name(session, class_name)
            if row is None:
                raise InviteError(f"no class '{class_name}' (add it with `classpulse class add`)")
            class_id = row.id
        code = invites.create_invite(session, class_id, role, now, uses, expires_days).code
    notes = []
    username = settings.telegram_bot_username
    if not username:
        username = "<bot_username>"
        notes.append("set TELEGRAM_BOT_USERNAME to get a working Telegram link")
    bot_uri = settings.viber_bot_uri
    if not bot_uri:
        bot_uri = "<viber_bot_uri>"
        notes.append("set VIBER_BOT_URI to get a working Viber link (see docs/viber.md)")
    telegram_link = telegram_deep_link(username, code)
    viber_link = viber_deep_link(bot_uri, code)
    # Families mostly use Viber, so the QR opens Viber when the school has a Viber bot.
    qr_target = viber_link if settings.viber_bot_uri else telegram_link
    qr_dir = settings.data_dir / "qr"
    qr_dir.mkdir(parents=True, exist_ok=True)
    qr_path = qr_dir / f"invite-{code}.png"
    qrcode.make(qr_target).save(str(qr_path))
    return CreatedInvite(code, telegram_link, viber_link, qr_path, notes)
