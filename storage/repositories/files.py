"""Stored files (once per content) and the public links that serve them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import FileLink, Notice, OutboxMessage, StoredFile


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


# ------------------------------------------------------------ files kept in another messenger
@dataclass(frozen=True)
class RemoteFile:
    """A current notice whose file is kept in a messenger (`<channel>-file:<ref>`) and not
    stored here yet, while some of its messages wait for it."""

    notice_id: int
    file_path: str
    file_name: str


@dataclass(frozen=True)
class WaitingRow:
    id: int
    payload: dict[str, Any]


def notice_file(session: Session, notice_id: int) -> tuple[StoredFileInfo, str] | None:
    """The stored copy of a notice's file (and its name), from the notice's newest link."""
    row = session.execute(
        select(StoredFile, FileLink.name)
        .join(FileLink, FileLink.file_id == StoredFile.id)
        .where(FileLink.notice_id == notice_id)
        .order_by(FileLink.id.desc())
        .limit(1)
    ).first()
    return (_info(row[0]), row[1]) if row is not None else None


def remote_files_waited_for(
    session: Session, mark: str, channels: list[str], limit: int = 20
) -> list[RemoteFile]:
    """Current notices with a file kept in a messenger (`mark` in the path), no stored copy,
    and pending messages on `channels` (those that receive files only by URL)."""
    linked = select(FileLink.id).where(FileLink.notice_id == Notice.id).exists()
    waiting = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.notice_id == Notice.id,
            OutboxMessage.status == "pending",
            OutboxMessage.channel.in_(channels),
        )
        .exists()
    )
    rows = session.execute(
        select(Notice.id, Notice.file_path, Notice.file_name)
        .where(
            Notice.superseded_by.is_(None),
            Notice.file_path.contains(mark),
            Notice.file_name.is_not(None),
            ~linked,
            waiting,
        )
        .order_by(Notice.id)
        .limit(limit)
    ).all()
    return [RemoteFile(r[0], str(r[1]), str(r[2])) for r in rows]


def waiting_rows(session: Session, notice_id: int, channels: list[str]) -> list[WaitingRow]:
    rows = session.execute(
        select(OutboxMessage.id, OutboxMessage.payload).where(
            OutboxMessage.notice_id == notice_id,
            OutboxMessage.status == "pending",
            OutboxMessage.channel.in_(channels),
        )
    ).all()
    return [WaitingRow(r[0], dict(r[1])) for r in rows]


def release_waiting_row(
    session: Session, row_id: int, payload: dict[str, Any], due: datetime
) -> None:
    """A message that waited for its file: its new payload, due now (unless claimed since)."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.status == "pending")
        .values(payload=payload, next_attempt_at=due)
    )
