"""Publishing assessment-criteria notices, reminding, and measuring who has been reached.

Used by the chat flow (through an effect applier, bot/criteria/effects.py), the CLI and the
scheduler. Every function works inside the caller's transaction: a publish queues its messages
to the whole audience or, if anything fails, the transaction rolls back and nobody gets one.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from bot.channels.capabilities import (
    RECEIPT_CHANNELS,
    URL_FILE_CHANNELS,
    capabilities,
)
from bot.criteria.rendering import (
    AUDIENCE_ROLES,
    AUDIENCES,
    MAX_NOTICE_TEXT,
    MAX_SUBJECT,
    NoticeView,
    file_mime,
    file_too_big,
    group_reply,
    match_subject,
    megabytes,
    notice_reply,
    notice_view,
)
from bot.delivery.contract import Delivery, Result
from bot.engine.events import FILE_REF_MARK, OutFile
from bot.files.private import private_dir, private_file
from bot.files.store import link_file, link_stored, revoke_for_notices
from bot.members.identity import bot_identity
from bot.settings import Settings
from bot.usage.cost import Estimate, OverLimit
from bot.usage.cost import check as check_cost
from storage.models import SCHOOL_WIDE_ROLES
from storage.repositories import criteria as repo
from storage.repositories import files as files_repo
from storage.repositories import people, school
from storage.repositories.criteria import NoticeInfo
from storage.repositories.outbox import NewMessage, enqueue_many
from storage.repositories.people import PersonInfo, Recipient

PUBLISHER_ROLES = ("teacher", "class_teacher")
# Magic bytes: a renamed .exe is refused even when its name says .pdf.
_MAGIC = {
    ".pdf": (b"%PDF",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".docx": (b"PK\x03\x04",),
}


class PublishError(Exception):
    """A notice cannot be published; `key` names the text that explains why."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass(frozen=True)
class NoticeFile:
    """An attachment: a stored local file (CLI) or a channel's file reference (chat)."""

    name: str
    mime: str
    size: int
    path: str  # local path, or "<channel>-file:<ref>" that only that channel can resend
    digest: str = ""


@dataclass(frozen=True)
class PublishedNotice:
    class_id: int
    class_name: str
    notice_id: int
    recipients: int  # people
    messages: int  # outbox rows (one per messenger account)
    groups: int  # class group chats
    replaced: tuple[int, ...] = ()


@dataclass(frozen=True)
class PublishResult:
    subject: str
    audience: str
    notices: list[PublishedNotice] = field(default_factory=list)
    # Classes left out because nobody of the audience has joined (with skip_empty).
    skipped: list[str] = field(default_factory=list)
    cost: Estimate | None = None  # on billed channels

    @property
    def recipients(self) -> int:
        return sum(n.recipients for n in self.notices)


# ---------------------------------------------------------------- validation
def check_text(text: str) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise PublishError("cr_text_empty")
    if len(cleaned) > MAX_NOTICE_TEXT:
        raise PublishError("cr_text_too_long", length=len(cleaned), limit=MAX_NOTICE_TEXT)
    return cleaned


def check_subject(subject: str, settings: Settings) -> str:
    cleaned = match_subject(subject, settings.subjects)
    if not 2 <= len(cleaned) <= MAX_SUBJECT:
        raise PublishError("cr_subject_bad", limit=MAX_SUBJECT)
    return cleaned


def check_audience(audience: str) -> str:
    if audience not in AUDIENCES:
        raise PublishError("cr_bad_audience")
    return audience


def check_file_size(name: str, size: int, settings: Settings) -> None:
    if file_too_big(size, settings.criteria_max_file_mb):
        raise PublishError(
            "cr_file_too_big", name=name, size=megabytes(size), mb=settings.criteria_max_file_mb
        )


def store_file(source: Path, settings: Settings) -> NoticeFile:
    """Check a local file and copy it under data_dir/notices, named by its content."""
    mime = file_mime(source.name)
    if mime is None:
        raise PublishError("cr_file_type", name=source.name)
    check_file_size(source.name, source.stat().st_size, settings)
    data = source.read_bytes()
    suffix = source.suffix.lower()
    if not data.startswith(_MAGIC[suffix]):
        raise PublishError("cr_file_type", name=source.name)
    digest = hashlib.sha256(data).hexdigest()
    private_dir(Path(settings.data_dir))
    target_dir = private_dir(Path(settings.data_dir) / "notices")
    target = target_dir / f"{digest[:32]}{suffix}"
    if not target.exists():
        shutil.copyfile(source, target)
        private_file(target)
    return NoticeFile(source.name, mime, len(data), str(target.resolve()), digest)


def content_hash(subject: str, audience: str, text: str, file: NoticeFile | None) -> str:
    """What makes two notices the same: a re-run import with this hash publishes nothing."""
    parts = [subject.casefold(), audience, text, (file.digest or file.path) if file else ""]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


# ---------------------------------------------------------------- permissions
def publishable_class_ids(session: Session, person: PersonInfo) -> list[int]:
    """Classes a person may publish to: their own as (class) teacher; any for the director."""
    if person.is_school_wide:
        return sorted(school.class_names(session))
    return person.class_ids(PUBLISHER_ROLES)


def may_answer(person: PersonInfo, notice: NoticeInfo) -> bool:
    if person.id == notice.author_id or person.is_school_wide:
        return True
    return notice.class_id in person.class_ids(("class_teacher",))


def coverage_class_ids(session: Session, person: PersonInfo) -> list[int] | None:
    """Classes whose coverage a person may see; None when none at all."""
    if person.roles & set(SCHOOL_WIDE_ROLES):
        return sorted(school.class_names(session))
    own = person.class_ids(("class_teacher",))
    return own or None


# ---------------------------------------------------------------- publishing
def audience_by_class(
    session: Session, class_ids: list[int], audience: str
) -> dict[int, list[Recipient]]:
    """Each class's recipient accounts. Asked per class: a parent of children in two of the
    classes gets both classes' notices."""
    roles = AUDIENCE_ROLES[check_audience(audience)]
    return {cid: people.recipients(session, [cid], roles) for cid in class_ids}


def same_subject(session: Session, class_id: int, subject: str) -> list[NoticeInfo]:
    return [
        n
        for n in repo.current_notices(session, [class_id])
        if n.subject.casefold() == subject.casefold()
    ]


def publish_notice(
    session: Session,
    *,
    class_ids: list[int],
    subject: str,
    audience: str,
    text: str,
    file: NoticeFile | None,
    author_id: int | None,
    now: datetime,
    settings: Settings,
    skip_empty: bool = False,
) -> PublishResult:
    """Create one notice per class, supersede older ones, queue one message per account.

    Raises PublishError before writing anything when the input is bad or a class has no
    recipients; the caller's transaction makes the rest all or nothing. With `skip_empty`,
    classes without recipients are left out (listed in `skipped`) unless that is all of them.
    """
    text = check_text(text)
    subject = check_subject(subject, settings)
    audience = check_audience(audience)
    names = school.class_names(session, class_ids)
    if not class_ids or set(class_ids) - set(names):
        raise PublishError("cr_unknown_class")
    targets = audience_by_class(session, class_ids, audience)
    empty = [names[cid] for cid, found in targets.items() if not found]
    if empty and (not skip_empty or len(empty) == len(targets)):
        raise PublishError("cr_no_recipients", classes=", ".join(sorted(empty)), audience=audience)
    accounts = [(r.channel, r.external_id) for found in targets.values() for r in found]
    try:
        cost = check_cost(session, accounts, now, settings)
    except OverLimit as exc:
        raise PublishError("cr_over_limit", **exc.estimate.params()) from None
    digest = content_hash(subject, audience, text, file)
    result = PublishResult(subject, audience, skipped=sorted(empty), cost=cost)
    for class_id in (cid for cid in class_ids if targets[cid]):
        replaced = [n.id for n in same_subject(session, class_id, subject)]
        notice_id = repo.create_notice(
            session,
            repo.NewNotice(
                class_id=class_id,
                subject=subject,
                audience=audience,
                text=text,
                file_name=file.name if file else None,
                file_path=file.path if file else None,
                author_id=author_id,
                content_hash=digest,
            ),
            now,
        )
        repo.supersede(session, replaced, notice_id)
        revoke_for_notices(session, replaced, now)  # a superseded notice's file links stop
        notice = repo.get_notice(session, notice_id)
        assert notice is not None
        result.notices.append(
            _queue(session, notice, targets[class_id], bool(replaced), now, settings, replaced)
        )
    return result


def with_link(
    session: Session, view: NoticeView, channels: set[str], now: datetime, settings: Settings
) -> NoticeView:
    """The view with a public link to its local file when some recipient's channel receives
    files only by URL (one link per notice and run, revoked with the notice)."""
    url_channels = sorted(c for c in channels if capabilities(c).sends_files_by_url)
    path = view.file_path
    if not url_channels or not path or not view.file_name:
        return view
    max_picture = capabilities(url_channels[0]).max_picture_bytes
    if FILE_REF_MARK in path:  # kept in a messenger: linked once fetched (fetch_remote_files)
        fetched = files_repo.notice_file(session, view.id)
        if fetched is None:
            return view
        link = link_stored(
            session,
            settings,
            fetched[0],
            fetched[1],
            now,
            notice_id=view.id,
            max_picture_bytes=max_picture,
        )
    else:
        link = link_file(
            session,
            settings,
            Path(path),
            view.file_name,
            view.file_mime,
            now,
            notice_id=view.id,
            max_picture_bytes=max_picture,
        )
    if link is None:
        return view
    out = OutFile(path=path, name=link.name, mime=link.mime, url=link.url, size=link.size)
    return replace(view, file_link=out)


# A message waiting for a file kept in another messenger: its reply with the file, once fetched.
WITH_FILE = "reply_with_file"
FETCH_WAIT_SECONDS = 300


def awaits_remote_file(view: NoticeView, channel: str) -> bool:
    """Whether `channel` receives this notice's file only once it is fetched from the
    messenger it was sent in (a teacher's PDF in Telegram, for a Viber family)."""
    return bool(
        view.file_path
        and view.file_name
        and view.file_link is None
        and FILE_REF_MARK in view.file_path
        and capabilities(channel).sends_files_by_url
    )


def _placeholder(view: NoticeView) -> OutFile:
    assert view.file_path is not None and view.file_name is not None
    return OutFile(path=view.file_path, name=view.file_name, mime=view.file_mime, url="-")


def _queue(
    session: Session,
    notice: NoticeInfo,
    recipients: list[Recipient],
    updated: bool,
    now: datetime,
    settings: Settings,
    replaced: list[int],
) -> PublishedNotice:
    view = with_link(session, notice_view(notice), {r.channel for r in recipients}, now, settings)
    roles: dict[int, str] = {}
    messages = []
    for r in recipients:
        roles.setdefault(r.person_id, r.role)
        payload = {"reply": notice_reply(r.language, view, r.channel, updated).to_json()}
        waits = bool(settings.public_files_url) and awaits_remote_file(view, r.channel)
        if waits:
            # The file is fetched from the messenger that keeps it (fetch_remote_files) and
            # this message then goes with it; should that fail, it goes without, after a while.
            ready = replace(view, file_link=_placeholder(view))
            payload[WITH_FILE] = notice_reply(r.language, ready, r.channel, updated).to_json()
        messages.append(
            NewMessage(
                channel=r.channel,
                recipient=r.external_id,
                payload=payload,
                idempotency_key=f"notice:{notice.id}:{r.person_id}:{r.channel}:{r.external_id}",
                person_id=r.person_id,
                kind="notice",
                urgent=False,  # notices wait for the end of quiet hours
                notice_id=notice.id,
                not_before=now + timedelta(seconds=FETCH_WAIT_SECONDS) if waits else None,
            )
        )
    repo.add_deliveries(session, notice.id, sorted(roles.items()), now)
    groups = repo.group_chats(session, notice.class_id)
    bot_url = bot_identity(session, settings).group_chat_link
    for channel, chat_id in groups:
        reply = group_reply(settings.bot_language, view, channel, bot_url, updated)
        messages.append(
            NewMessage(
                channel=channel,
                recipient=chat_id,
                payload={"reply": reply.to_json()},
                idempotency_key=f"notice:{notice.id}:group:{channel}:{chat_id}",
                kind="notice",
                urgent=False,
                notice_id=notice.id,
            )
        )
    enqueue_many(session, messages, now)
    return PublishedNotice(
        class_id=notice.class_id,
        class_name=notice.class_name,
        notice_id=notice.id,
        recipients=len(roles),
        messages=len(messages) - len(groups),
        groups=len(groups),
        replaced=tuple(replaced),
    )


def notice_sent(session: Session, delivery: Delivery, result: Result, now: datetime) -> None:
    """The outbox sender's after-sent hook: a sent notice counts as delivered, except on
    Viber, where "sent" means accepted and the `delivered` callback says more."""
    if (
        delivery.notice_id is None
        or delivery.person_id is None
        or delivery.channel in RECEIPT_CHANNELS
    ):
        return
    repo.mark_delivered(session, delivery.notice_id, delivery.person_id, now)


# ---------------------------------------------------------------- reminders
def queue_criteria_reminders(session: Session, now: datetime, settings: Settings) -> int:
    """Re-send unacknowledged current notices after N days, at most M times. Returns the
    number of messages queued. In quiet hours it queues nothing: the next run will."""
    if settings.criteria_reminder_max == 0 or settings.in_quiet_hours(now):
        return 0
    due = repo.due_reminders(
        session,
        now - timedelta(days=settings.criteria_reminder_after_days),
        settings.criteria_reminder_max,
    )
    languages = repo.languages(session, sorted({d.person_id for d in due}))
    views: dict[int, NoticeView] = {}
    messages = []
    for d in due:
        if d.notice_id not in views:
            notice = repo.get_notice(session, d.notice_id)
            assert notice is not None
            views[d.notice_id] = with_link(
                session, notice_view(notice), set(URL_FILE_CHANNELS), now, settings
            )
        language = languages.get(d.person_id, "uk")
        number = d.reminders_sent + 1
        for channel, external_id in people.reachable_identities(session, d.person_id):
            reply = notice_reply(language, views[d.notice_id], channel, reminder=True)
            messages.append(
                NewMessage(
                    channel=channel,
                    recipient=external_id,
                    payload={"reply": reply.to_json()},
                    idempotency_key=f"notice:{d.notice_id}:{d.person_id}:r{number}:"
                    f"{channel}:{external_id}",
                    person_id=d.person_id,
                    kind="notice",
                    urgent=False,
                    notice_id=d.notice_id,
                )
            )
        # Counted even without a reachable account, so an unreachable person is not retried
        # on every run.
        repo.mark_reminded(session, d.notice_id, d.person_id, now)
    check_cost(session, [(m.channel, m.recipient) for m in messages], now, settings)
    return enqueue_many(session, messages, now)


# ---------------------------------------------------------------- coverage
@dataclass(frozen=True)
class CoverageRow:
    """Reach of the current notice for one class and subject."""

    class_id: int
    class_name: str
    subject: str
    notice_id: int
    audience: str
    published_at: datetime
    recipients: int
    delivered: int
    seen: int
    acknowledged: int
    questions: int
    answered: int

    @property
    def delivered_pct(self) -> float | None:
        return round(100 * self.delivered / self.recipients, 1) if self.recipients else None

    @property
    def acknowledged_pct(self) -> float | None:
        return round(100 * self.acknowledged / self.recipients, 1) if self.recipients else None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["published_at"] = self.published_at.isoformat()
        data["delivered_pct"] = self.delivered_pct
        data["acknowledged_pct"] = self.acknowledged_pct
        return data


def coverage(session: Session, class_id: int | None = None) -> list[CoverageRow]:
    """One row per current notice (class × subject), ordered by class name and subject."""
    notices = repo.current_notices(session, [class_id] if class_id is not None else None)
    counts = repo.coverage_counts(session, [n.id for n in notices], RECEIPT_CHANNELS)
    return [
        CoverageRow(
            class_id=n.class_id,
            class_name=n.class_name,
            subject=n.subject,
            notice_id=n.id,
            audience=n.audience,
            published_at=n.created_at,
            recipients=counts[n.id].recipients,
            delivered=counts[n.id].delivered,
            seen=counts[n.id].seen,
            acknowledged=counts[n.id].acknowledged,
            questions=counts[n.id].questions,
            answered=counts[n.id].answered,
        )
        for n in notices
    ]
