"""Telegram updates -> neutral events: private chats into `IncomingEvent`s, group chats into
`GroupEvent`s. Pure translation: nothing is stored or sent here."""

from __future__ import annotations

import logging
from typing import Any

from telegram import (
    ChatMember,
    Update,
)
from telegram.constants import ChatType

from bot.channels.telegram import CHANNEL
from bot.engine.events import EventKind, FileRef, GroupEvent, IncomingEvent

logger = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
GROUP_TYPES = (ChatType.GROUP, ChatType.SUPERGROUP)
GONE = (ChatMember.LEFT, ChatMember.BANNED)
PRESENT = (ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER)


def message_ref(chat_id: int, message_id: int) -> str:
    return f"{chat_id}:{message_id}"


def parse_ref(ref: str) -> tuple[int, int] | None:
    chat, _, message = ref.partition(":")
    try:
        return int(chat), int(message)
    except ValueError:
        return None


def _display_name(update: Update) -> str:
    user = update.effective_user
    return user.full_name[:200] if user else ""


def _language(update: Update) -> str:
    user = update.effective_user
    return (user.language_code or "")[:8] if user else ""


def private_event(update: Update) -> IncomingEvent | None:
    """A private-chat message or button press as an engine event (None: nothing to do)."""
    common: dict[str, Any] = {
        "display_name": _display_name(update),
        "language_code": _language(update),
        "event_id": f"u{update.update_id}",
    }
    query = update.callback_query
    if query is not None:
        message = query.message
        if message is None or message.chat.type != ChatType.PRIVATE or not query.data:
            return None
        return IncomingEvent(
            CHANNEL,
            str(message.chat.id),
            EventKind.BUTTON,
            payload=query.data[:128],
            message_ref=message_ref(message.chat.id, message.message_id),
            **common,
        )
    msg = update.message
    if msg is None or msg.chat.type != ChatType.PRIVATE:
        return None
    if msg.from_user is None or msg.from_user.is_bot:
        return None
    user_id = str(msg.chat.id)
    if msg.reply_to_message is not None:
        common["reply_to_ref"] = message_ref(msg.chat.id, msg.reply_to_message.message_id)
    if msg.text is not None:
        return IncomingEvent.from_text(CHANNEL, user_id, msg.text, **common)
    if msg.document is not None:
        doc = msg.document
        file = FileRef(
            name=(doc.file_name or "document")[:200],
            mime=doc.mime_type or "application/octet-stream",
            size=doc.file_size or 0,
            ref=doc.file_id,
        )
        return IncomingEvent(
            CHANNEL, user_id, EventKind.FILE, text=msg.caption or "", file=file, **common
        )
    if msg.photo:
        photo = msg.photo[-1]  # the largest size
        file = FileRef(
            name="photo.jpg", mime="image/jpeg", size=photo.file_size or 0, ref=photo.file_id
        )
        return IncomingEvent(
            CHANNEL, user_id, EventKind.FILE, text=msg.caption or "", file=file, **common
        )
    # Stickers, voice, locations...: an empty text lets the engine say what it expects.
    return IncomingEvent(CHANNEL, user_id, EventKind.TEXT, text="", **common)


def group_event(update: Update, bot_username: str) -> GroupEvent | None:
    """`/bind`, `/unbind`, the bot being added or removed, a group becoming a supergroup; else
    None."""
    event_id = f"u{update.update_id}"
    member = update.my_chat_member
    if member is not None:
        if member.chat.type not in GROUP_TYPES:
            return None
        old, new = member.old_chat_member.status, member.new_chat_member.status
        kind = ""
        if new in GONE:
            kind = "removed"
        elif new in PRESENT and old in GONE:
            kind = "added"
        if not kind:
            return None
        user_id = str(member.from_user.id)
        return GroupEvent(
            CHANNEL,
            str(member.chat.id),
            kind,
            user_id,
            event_id=event_id,
            language_code=_language(update),
        )
    msg = update.message
    if msg is not None and msg.migrate_to_chat_id:
        return GroupEvent(
            CHANNEL,
            str(msg.chat.id),
            "migrated",
            argument=str(msg.migrate_to_chat_id),
            event_id=event_id,
        )
    if msg is None or msg.chat.type not in GROUP_TYPES or msg.from_user is None:
        return None
    text = (msg.text or "").strip()
    if not text.startswith("/"):
        return None  # privacy mode: the bot only reads commands addressed to it
    head = text.split(maxsplit=1)[0]
    if "@" in head and head.split("@", 1)[1].lower() != bot_username.lower():
        return None  # a command for another bot in the group
    event = IncomingEvent.from_text(CHANNEL, str(msg.from_user.id), text)
    if event.kind is not EventKind.COMMAND or event.command not in ("bind", "unbind"):
        return None
    return GroupEvent(
        CHANNEL,
        str(msg.chat.id),
        event.command,
        str(msg.from_user.id),
        argument=event.argument[:60],
        event_id=event_id,
        language_code=_language(update),
    )


def private_unreachable(update: Update) -> IncomingEvent | None:
    """The user blocked the bot (my_chat_member in their private chat): stop writing."""
    member = update.my_chat_member
    if member is None or member.chat.type != ChatType.PRIVATE:
        return None
    if member.new_chat_member.status not in GONE:
        return None
    return IncomingEvent(
        CHANNEL,
        str(member.chat.id),
        EventKind.UNREACHABLE,
        text="blocked the bot",
        event_id=f"u{update.update_id}",
    )
