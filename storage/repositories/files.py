"""Stored files (once per content) and the public links that serve them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import FileLink, StoredFile


@dataclass(frozen=True)
class StoredFileInfo:
    id: int
    sha256: str
    mime: str
    size: int


@dataclass(frozen=True)
class LinkTarget:
    sha256: str
    mime: str
    size: int
    name: str


def _info(row: StoredFile) -> StoredFileInfo:
    return StoredFileInfo(row.id, row.sha256, row.mime, row.size)


def file_by_sha(session: Session, sha256: str) -> StoredFileInfo | None:
    row = session.scalar(select(StoredFile).where(StoredFile.sha256 == sha256))
    return _info(row) if row is not None else None


def add_file(session: Session, sha256: str, mime: str, size: int, now: datetime) -> StoredFileInfo:
    """The row for this content, created when new (safe against a concurrent insert)."""
    found = file_by_sha(session, sha256)
    if found is not None:
        return found
    try:
        with session.begin_nested():
            row = StoredFile(sha256=sha256, mime=mime[:100], size=size, created_at=now)
            session.add(row)
            session.flush()
            return _info(row)
    except IntegrityError:
        again = file_by_sha(session, sha256)
        assert again is not None
        return again


def add_link(
    session: Session,
    token_hash: str,
    file_id: int,
    name: str,
    expires_at: datetime,
    now: datetime,
    notice_id: int | None = None,
) -> None:
    session.add(
        FileLink(
            token_hash=token_hash,
            file_id=file_id,
            name=name[:200],
            expires_at=expires_at,
            notice_id=notice_id,
            created_at=now,
        )
    )
    session.flush()


def live_link(session: Session, token_hash: str, now: datetime) -> LinkTarget | None:
    """The file behind a link that is neither expired nor revoked."""
    row = session.execute(
        select(StoredFile.sha256, StoredFile.mime, StoredFile.size, FileLink.name)
        .join(StoredFile, StoredFile.id == FileLink.file_id)
        .where(
            FileLink.token_hash == token_hash,
            FileLink.expires_at > now,
            FileLink.revoked_at.is_(None),
        )
    ).first()
    return LinkTarget(*row) if row is not None else None


def revoke_notice_links(session: Session, notice_ids: list[int], now: datetime) -> int:
    if not notice_ids:
        return 0
    result = session.execute(
        update(FileLink)
        .where(FileLink.notice_id.in_(notice_ids), FileLink.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)
