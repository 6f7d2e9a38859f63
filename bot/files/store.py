"""Files the bot serves by link, for channels that receive pictures and files only as a public
URL (`sends_files_by_url` in bot/channels/capabilities.py).

- A file is stored once, by content: `data_dir/files/<sha256>`, one `stored_files` row.
- A link is `<public origin>/files/<token>/<name>`: the token is 32 random bytes; only its
  SHA-256 is kept, so the database cannot be turned back into working links. It expires after
  FILE_LINK_DAYS and is revoked when its notice is superseded.
- A picture larger than the channel shows inline is resized (JPEG) once, stored as its own file.
"""

from __future__ import annotations

import hashlib
import io
import secrets
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from sqlalchemy.orm import Session

from bot.settings import Settings
from storage.repositories import files as repo
from storage.repositories.files import LinkTarget, StoredFileInfo

PICTURE_TYPES = ("image/jpeg", "image/png")
MAX_NAME = 120


def files_dir(settings: Settings) -> Path:
    return settings.data_dir / "files"


def path_of(settings: Settings, sha256: str) -> Path:
    return files_dir(settings) / sha256


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def safe_name(name: str) -> str:
    """A download name without path parts or control characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>|?*:').strip()
    return (cleaned or "file")[-MAX_NAME:]


def put_bytes(
    session: Session, settings: Settings, data: bytes, mime: str, now: datetime
) -> StoredFileInfo:
    """Store content once (by hash); the same bytes again reuse the row and the file."""
    sha = hashlib.sha256(data).hexdigest()
    target = path_of(settings, sha)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{secrets.token_hex(4)}.part")
        partial.write_bytes(data)
        partial.replace(target)  # atomic: a reader never sees half a file
    return repo.add_file(session, sha, mime, len(data), now)


def put_path(
    session: Session, settings: Settings, source: Path, mime: str, now: datetime
) -> StoredFileInfo:
    data = source.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    if not path_of(settings, sha).exists():
        path_of(settings, sha).parent.mkdir(parents=True, exist_ok=True)
        partial = path_of(settings, sha).with_suffix(f".{secrets.token_hex(4)}.part")
        shutil.copyfile(source, partial)
        partial.replace(path_of(settings, sha))
    return repo.add_file(session, sha, mime, len(data), now)


def shrink_picture(data: bytes, max_bytes: int) -> bytes | None:
    """The picture as a JPEG under `max_bytes`, scaled down as needed; None if it cannot be
    read as an image."""
    from PIL import Image, UnidentifiedImageError

    try:
        opened = Image.open(io.BytesIO(data))
        opened.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    image: Image.Image = opened.convert("RGB")
    side = max(image.size)
    for limit in (2048, 1600, 1280, 1024, 800, 640, 480):
        if side > limit:
            image.thumbnail((limit, limit))
        for quality in (85, 70):
            out = io.BytesIO()
            image.save(out, "JPEG", quality=quality, optimize=True)
            if out.tell() <= max_bytes:
                return out.getvalue()
    return None


@dataclass(frozen=True)
class Link:
    url: str
    name: str
    mime: str
    size: int


def link_file(
    session: Session,
    settings: Settings,
    source: Path,
    name: str,
    mime: str,
    now: datetime,
    *,
    notice_id: int | None = None,
    max_picture_bytes: int = 0,
) -> Link | None:
    """Store `source` (once) and make a public link to it; None when the bot has no public
    address (FILES_BASE_URL / VIBER_WEBHOOK_URL) or the file is gone. A picture over
    `max_picture_bytes` is linked in a resized JPEG version instead."""
    if not settings.public_files_url or not source.is_file():
        return None
    stored = put_path(session, settings, source, mime, now)
    return link_stored(
        session,
        settings,
        stored,
        name,
        now,
        notice_id=notice_id,
        max_picture_bytes=max_picture_bytes,
    )


def link_stored(
    session: Session,
    settings: Settings,
    stored: StoredFileInfo,
    name: str,
    now: datetime,
    *,
    notice_id: int | None = None,
    max_picture_bytes: int = 0,
) -> Link | None:
    """A new public link to a file already stored (see link_file)."""
    base = settings.public_files_url
    if not base or not path_of(settings, stored.sha256).is_file():
        return None
    mime = stored.mime
    if max_picture_bytes and mime in PICTURE_TYPES and stored.size > max_picture_bytes:
        smaller = shrink_picture(path_of(settings, stored.sha256).read_bytes(), max_picture_bytes)
        if smaller is not None:
            stored = put_bytes(session, settings, smaller, "image/jpeg", now)
            name = name.rsplit(".", 1)[0] + ".jpg"
    name = safe_name(name)
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(days=settings.file_link_days)
    repo.add_link(session, token_hash(token), stored.id, name, expires, now, notice_id)
    return Link(f"{base}/files/{token}/{quote(name)}", name, stored.mime, stored.size)


def resolve(session: Session, settings: Settings, token: str, now: datetime) -> Path | None:
    """The stored file behind a live link, else None (unknown, expired, revoked)."""
    target = lookup(session, token, now)
    if target is None:
        return None
    path = path_of(settings, target.sha256)
    return path if path.is_file() else None


def lookup(session: Session, token: str, now: datetime) -> LinkTarget | None:
    if not 20 <= len(token) <= 100:
        return None
    return repo.live_link(session, token_hash(token), now)


def revoke_for_notices(session: Session, notice_ids: list[int], now: datetime) -> int:
    return repo.revoke_notice_links(session, notice_ids, now)
