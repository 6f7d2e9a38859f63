"""What criteria notices look like: their parts, keyboards and messages, in the reader's language.

Pure: no storage. Used by the chat flow (bot/criteria/flows.py) and by the publish service
(bot/criteria/service.py), which renders each notice in the recipient's language.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.channels.capabilities import capabilities, resendable_by
from bot.engine.buttons import ButtonKind, encode
from bot.engine.events import Button, OutFile, Reply
from bot.texts import role_name, t
from storage.records import NoticeInfo

AUDIENCES = ("students", "parents", "both")
AUDIENCE_ROLES = {"students": ("student",), "parents": ("parent",), "both": ("student", "parent")}

# One notice must fit one message everywhere: Telegram allows 4096 characters, Viber ~7000;
# the header (subject, class, author) and footer take the rest. Longer texts are refused with
# advice to attach the full criteria as a file, rather than split: a notice in several parts
# would have its buttons on the last part only and read badly in a class group.
MAX_NOTICE_TEXT = 3500
MAX_QUESTION = 1000
MAX_SUBJECT = 120
# A file a teacher sent in chat stays in that messenger ("telegram-file:<file_id>"): it is
# attached for recipients on the same channel once its transport can send such a reference
# (Telegram: send_document(document=file_id); `resends_own_files` in bot/channels/). Everyone
# else is told to ask the teacher for the file. Files published from the CLI are local
# paths under data_dir/notices and go to every channel that sends files.
FILE_TYPES = {
    ".pdf": "application/pdf",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


@dataclass(frozen=True)
class NoticeView:
    """The parts of a notice a message shows."""

    id: int
    subject: str
    class_name: str
    author_name: str
    text: str
    file_name: str | None = None
    file_path: str | None = None
    file_mime: str = ""
    # The file as a public link, for channels that receive files only by URL.
    file_link: OutFile | None = None


@dataclass(frozen=True)
class CriteriaConfig:
    """The school's criteria settings the chat flow needs (read through the world)."""

    subjects: tuple[str, ...]
    max_file_mb: int
    show_names: bool


@dataclass(frozen=True)
class Plan:
    """What a publish would do, for the preview: people per class, and what it replaces."""

    recipients: dict[str, int]  # class name -> people
    replaces: tuple[str, ...]  # class names where an older notice of the subject exists
    # On a billed channel: paid messages, free ones, and the placeholders of the cost texts.
    paid: int = 0
    free: int = 0
    over_limit: bool = False
    cost: tuple[tuple[str, str | int], ...] = ()

    @property
    def total(self) -> int:
        return sum(self.recipients.values())

    @property
    def empty(self) -> tuple[str, ...]:
        return tuple(sorted(name for name, n in self.recipients.items() if n == 0))


def file_mime(name: str, mime: str = "") -> str | None:
    """The accepted MIME type for a file name (or the MIME a channel reported), else None."""
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if f".{suffix}" in FILE_TYPES:
        return FILE_TYPES[f".{suffix}"]
    return mime if mime in FILE_TYPES.values() else None


def file_too_big(size: int, max_mb: int) -> bool:
    return size > max_mb * 1024 * 1024


def megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}"


def match_subject(typed: str, subjects: tuple[str, ...] | list[str]) -> str:
    """The school's spelling when the subject is on its list, else the typed name, tidied."""
    cleaned = " ".join(typed.split())
    for known in subjects:
        if known.casefold() == cleaned.casefold():
            return known
    return cleaned


def notice_view(notice: NoticeInfo) -> NoticeView:
    return NoticeView(
        id=notice.id,
        subject=notice.subject,
        class_name=notice.class_name,
        author_name=notice.author_name,
        text=notice.text,
        file_name=notice.file_name,
        file_path=notice.file_path,
        file_mime=file_mime(notice.file_name or "") or "",
    )


def audience_name(lang: str, audience: str) -> str:
    return t(lang, f"cr_aud_{audience}")


def out_file(notice: NoticeView, channel: str) -> OutFile | None:
    """The attachment for a recipient on `channel`, if that channel can send it."""
    if not notice.file_path or not notice.file_name:
        return None
    if capabilities(channel).sends_files_by_url:
        return notice.file_link  # None when no link could be made: "ask the teacher"
    if not resendable_by(channel, notice.file_path):
        return None
    return OutFile(path=notice.file_path, name=notice.file_name, mime=notice.file_mime)


def notice_body(lang: str, notice: NoticeView, updated: bool = False, channel: str = "") -> str:
    lines = []
    if updated:
        lines.append(t(lang, "cr_notice_updated"))
    lines.append(
        t(
            lang,
            "cr_notice_head",
            subject=notice.subject,
            klass=notice.class_name,
            author=notice.author_name or t(lang, "cr_school"),
        )
    )
    text = f"{chr(10).join(lines)}\n\n{notice.text}"
    if notice.file_name:
        attached = out_file(notice, channel) is not None or not channel
        key = "cr_notice_file" if attached else "cr_notice_file_elsewhere"
        text += "\n\n" + t(lang, key, name=notice.file_name)
    return text


def notice_buttons(lang: str, notice_id: int) -> tuple[tuple[Button, ...], ...]:
    return (
        (
            Button(t(lang, "btn_cr_understood"), encode(ButtonKind.ACKNOWLEDGE, notice_id)),
            Button(t(lang, "btn_cr_question"), encode(ButtonKind.ASK, notice_id)),
        ),
    )


def notice_reply(
    lang: str,
    notice: NoticeView,
    channel: str,
    updated: bool = False,
    reminder: bool = False,
) -> Reply:
    """The notice as a family member on `channel` receives it: text, file, two buttons."""
    body = notice_body(lang, notice, updated, channel)
    if reminder:
        body = f"{t(lang, 'cr_reminder')}\n\n{body}"
    body += "\n\n" + t(lang, "cr_notice_footer")
    file = out_file(notice, channel)
    return Reply(text=body, buttons=notice_buttons(lang, notice.id), file=file)


def group_reply(
    lang: str, notice: NoticeView, channel: str, bot_url: str, updated: bool = False
) -> Reply:
    """The notice in a class group: no personal buttons, a link to the private chat instead."""
    body = notice_body(lang, notice, updated, channel) + "\n\n" + t(lang, "cr_group_footer")
    buttons = ((Button(t(lang, "btn_cr_open_bot"), url=bot_url),),) if bot_url else ()
    return Reply(text=body, buttons=buttons, file=out_file(notice, channel))


def relay_reply(
    lang: str,
    question_id: int,
    subject: str,
    class_name: str,
    asker_name: str,
    asker_role: str,
    text: str,
) -> Reply:
    """A family member's question as the teacher receives it."""
    body = t(
        lang,
        "cr_relay",
        subject=subject,
        klass=class_name,
        name=asker_name or t(lang, "cr_unnamed"),
        role=role_name(lang, asker_role),
        text=text,
    )
    return Reply(
        text=body,
        buttons=(
            (Button(t(lang, "btn_cr_reply"), encode(ButtonKind.REPLY_QUESTION, question_id)),),
        ),
    )


def answer_reply(
    lang: str,
    notice_id: int,
    subject: str,
    class_name: str,
    teacher: str,
    question: str,
    answer: str,
) -> Reply:
    """The teacher's answer as the asker receives it, with the notice's buttons again."""
    body = t(
        lang,
        "cr_answer_relay",
        subject=subject,
        klass=class_name,
        teacher=teacher or t(lang, "cr_school"),
        question=question,
        answer=answer,
    )
    return Reply(text=body, buttons=notice_buttons(lang, notice_id))


def percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "—"
