"""Files a teacher sent in a messenger (stored with the notice as `<channel>-file:<ref>`) reach
the channels that receive files only by URL (Viber) too.

At publish, such a channel's messages are queued twice rendered (without the file, and with it
in `WITH_FILE`) and held back for FETCH_WAIT_SECONDS. Out of any event's transaction, the
running adapter of the messenger that keeps the file downloads it once (`fetch_remote_files`,
run by the composition root); the file is stored once, linked for the notice, and the waiting
messages get the reply with the link and are due at once. If the fetch fails, they go after the
wait without the file ("ask the teacher"), as before; reminders later link the stored copy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from bot.channels.capabilities import URL_FILE_CHANNELS, capabilities
from bot.criteria.rendering import file_mime
from bot.criteria.service import WITH_FILE
from bot.engine.events import FILE_REF_MARK, OutFile, Reply
from bot.files.private import private_dir
from bot.files.store import files_dir, link_stored, put_path
from bot.settings import Settings
from storage.db import Database
from storage.repositories import files as repo
from storage.repositories.files import RemoteFile

logger = logging.getLogger(__name__)

# (the messenger's file reference, where to write it) -> the written path
Download = Callable[[str, Path], Awaitable[Path]]
RETRY_AFTER = timedelta(minutes=10)


def waited_for(session: Session) -> list[RemoteFile]:
    return repo.remote_files_waited_for(session, FILE_REF_MARK, sorted(URL_FILE_CHANNELS))


def attach_fetched(
    session: Session, settings: Settings, item: RemoteFile, source: Path, now: datetime
) -> int:
    """Store the fetched file once, link it for the notice, and let the messages that waited
    for it go with the link. Returns how many were released."""
    channels = sorted(URL_FILE_CHANNELS)
    mime = file_mime(item.file_name) or "application/octet-stream"
    stored = put_path(session, settings, source, mime, now)
    link = link_stored(
        session,
        settings,
        stored,
        item.file_name,
        now,
        notice_id=item.notice_id,
        max_picture_bytes=capabilities(channels[0]).max_picture_bytes,
    )
    if link is None:
        return 0
    out = OutFile(path=item.file_path, name=link.name, mime=link.mime, url=link.url, size=link.size)
    released = 0
    for row in repo.waiting_rows(session, item.notice_id, channels):
        ready = row.payload.get(WITH_FILE)
        if not isinstance(ready, dict):
            continue
        reply = replace(Reply.from_json(ready), file=out)
        payload = {k: v for k, v in row.payload.items() if k != WITH_FILE}
        payload["reply"] = reply.to_json()
        repo.release_waiting_row(session, row.id, payload, now)
        released += 1
    return released


@dataclass
class RemoteFileFetcher:
    """Fetches the files waited for, with the downloads of the running adapters
    (`{"telegram": TelegramAdapter.download_file}`). A failed fetch is retried after
    RETRY_AFTER (the messages go without the file meanwhile)."""

    db: Database
    settings: Settings
    clock: Callable[[], datetime]
    downloads: dict[str, Download]
    failed: dict[int, datetime] = field(default_factory=dict)

    async def run_once(self) -> int:
        """Fetch what is waited for now; returns how many messages were released."""
        if not self.settings.public_files_url or not self.downloads:
            return 0
        items = await asyncio.to_thread(self._waited_for)
        released = 0
        for item in items:
            origin, _, ref = item.file_path.partition(FILE_REF_MARK)
            download = self.downloads.get(origin)
            retry_at = self.failed.get(item.notice_id)
            if download is None or (retry_at is not None and self.clock() < retry_at):
                continue
            released += await self._fetch(item, ref, download)
        return released

    def _waited_for(self) -> list[RemoteFile]:
        with self.db.read() as session:
            return waited_for(session)

    async def _fetch(self, item: RemoteFile, ref: str, download: Download) -> int:
        target = private_dir(files_dir(self.settings)) / f"fetch-{secrets.token_hex(8)}.part"
        try:
            try:
                written = await download(ref, target)
            except Exception as exc:  # the platform's error, the network: try again later
                self.failed[item.notice_id] = self.clock() + RETRY_AFTER
                logger.warning(
                    "could not fetch the file of notice %d: %s", item.notice_id, type(exc).__name__
                )
                return 0
            released = await asyncio.to_thread(self._attach, item, Path(written))
        finally:
            with contextlib.suppress(OSError):
                target.unlink()
        self.failed.pop(item.notice_id, None)
        logger.info("notice %d: file fetched, %d messages go with it", item.notice_id, released)
        return released

    def _attach(self, item: RemoteFile, source: Path) -> int:
        with self.db.write() as session:
            return attach_fetched(session, self.settings, item, source, self.clock())
