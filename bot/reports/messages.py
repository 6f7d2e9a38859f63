"""Reports for the school's leaders in the messenger: files on disk, then outbox rows.

`render_report` writes the chart, XLSX and DOCX of an analytics Report into a folder and returns
the Ukrainian summary text; `queue_for_leaders` enqueues, to every reachable account of every
director and admin, the summary (split into messages of at most 4000 characters) and one
message per file. Keys are per (prefix, person, account, part), so a re-run queues nothing new.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.channels.capabilities import capabilities
from bot.engine.events import OutFile, Reply
from bot.files.private import private_dir, private_file
from bot.files.store import link_file
from bot.settings import Settings
from bot.texts import t
from storage.db import Database
from storage.repositories import people
from storage.repositories.outbox import NewMessage, enqueue_many

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from analytics import Report

LEADER_ROLES = ("director", "admin")
MAX_TEXT = 4000
MAX_KEY = 160
# pyplot keeps global state and jobs run in a thread pool: one report is rendered at a time.
_RENDER_LOCK = threading.Lock()

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True)
class ReportFile:
    file: OutFile
    caption_key: str


@dataclass(frozen=True)
class RenderedReport:
    text: str
    files: tuple[ReportFile, ...]


def render_report(report: Report, out_dir: Path, stem: str) -> RenderedReport:
    """Write `<stem>.png/.xlsx/.docx` into `out_dir` (none when nobody answered yet)."""
    from analytics import render  # matplotlib and friends load only when a report is made

    with _RENDER_LOCK:
        text = str(render(report, "text"))
        if report.respondents == 0:
            return RenderedReport(text, ())
        private_dir(out_dir)
        files = []
        for fmt, mime in (("png", "image/png"), ("xlsx", XLSX_MIME), ("docx", DOCX_MIME)):
            content = render(report, fmt)
            path = (out_dir / f"{stem}.{fmt}").resolve()
            path.write_bytes(content if isinstance(content, bytes) else content.encode())
            private_file(path)
            files.append(ReportFile(OutFile(str(path), path.name, mime), f"report_file_{fmt}"))
    return RenderedReport(text, tuple(files))


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces of at most `limit` characters, cut at line ends where possible."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:  # a single overlong line: cut it hard
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            candidate = line
        current = candidate
    if current or not pieces:
        pieces.append(current)
    return pieces


def _key(prefix: str, person_id: int, channel: str, external_id: str, part: str) -> str:
    key = f"{prefix}:{person_id}:{channel}:{external_id}:{part}"
    if len(key) <= MAX_KEY:
        return key
    # Very long external ids would not fit the column; a digest of them stays unique.
    digest = hashlib.sha256(f"{channel}:{external_id}".encode()).hexdigest()[:32]
    return f"{prefix}:{person_id}:{digest}:{part}"


def with_links(
    session: Session, settings: Settings, rendered: RenderedReport, channel: str, now: datetime
) -> RenderedReport:
    """The report with a public link to each file, for a channel that receives files only by
    URL (Viber: the chart as a picture, XLSX and DOCX as files); unchanged for other channels,
    or when the bot has no public address (then the text says where the files are)."""
    caps = capabilities(channel)
    if not caps.sends_files_by_url or not rendered.files:
        return rendered
    files = []
    for item in rendered.files:
        f = item.file
        link = link_file(
            session,
            settings,
            Path(f.path),
            f.name,
            f.mime,
            now,
            max_picture_bytes=caps.max_picture_bytes,
        )
        if link is None:
            return rendered
        linked = replace(f, name=link.name, mime=link.mime, url=link.url, size=link.size)
        files.append(replace(item, file=linked))
    return replace(rendered, files=tuple(files))


def report_messages(lang: str, intro: str, rendered: RenderedReport, channel: str) -> list[Reply]:
    """A rendered report as the messages one account of `channel` receives."""
    return [reply for _, reply in _messages_for(lang, intro, rendered, channel)]


def _messages_for(
    lang: str,
    intro: str,
    rendered: RenderedReport,
    channel: str,
) -> list[tuple[str, Reply]]:
    body = f"{intro}\n\n{rendered.text}" if rendered.text else intro
    # Viber sends files from a public URL only (with_links): without one, a pointer elsewhere.
    caps = capabilities(channel)
    sends_files = caps.sends_files or (
        caps.sends_files_by_url and all(item.file.url for item in rendered.files)
    )
    if rendered.files and not sends_files:
        body += "\n\n" + t(lang, "report_files_elsewhere")
    out = [(f"t{i}", Reply(text=piece)) for i, piece in enumerate(split_text(body))]
    if sends_files:
        for item in rendered.files:
            ext = item.file.name.rsplit(".", 1)[-1]
            out.append((ext, Reply(text=t(lang, item.caption_key), file=item.file)))
    return out


def queue_for_leaders(
    db: Database,
    settings: Settings,
    rendered: RenderedReport,
    *,
    key_prefix: str,
    intro_key: str,
    intro_params: dict[str, str],
    kind: str,
    urgent: bool,
    now: datetime,
) -> int:
    """Enqueue the report to every director/admin account; returns how many rows are new."""
    messages: list[NewMessage] = []
    with db.write() as session:
        linked: dict[str, RenderedReport] = {}  # per channel: one set of links per report
        for person_id in people.staff_with_school_role(session, LEADER_ROLES):
            person = people.person_info(session, person_id)
            lang = person.language if person else "uk"
            intro = t(lang, intro_key, **intro_params)
            for channel, external_id in people.reachable_identities(session, person_id):
                if capabilities(channel).local:
                    continue
                if channel not in linked:
                    linked[channel] = with_links(session, settings, rendered, channel, now)
                for part, reply in _messages_for(lang, intro, linked[channel], channel):
                    messages.append(
                        NewMessage(
                            channel=channel,
                            recipient=external_id,
                            payload={"reply": reply.to_json()},
                            idempotency_key=_key(key_prefix, person_id, channel, external_id, part),
                            person_id=person_id,
                            kind=kind,
                            urgent=urgent,
                        )
                    )
        return enqueue_many(session, messages, now)
