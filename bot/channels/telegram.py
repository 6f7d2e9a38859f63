"""Telegram: the only module that imports `telegram` (python-telegram-bot 22).

- `TelegramTransport` delivers outbox rows (bot/delivery.py contract) with PTB's `Bot`.
- `TelegramAdapter` runs the PTB `Application` (long polling, or a webhook served by
  bot/webapp.py) and translates updates: private chats into `IncomingEvent`s for ChatService,
  group chats into `GroupEvent`s for bot/groups.py. Neither sends a reply itself: replies are
  queued in the outbox by the same transaction that stored the state, and the sender is woken.

The API base URL comes from TELEGRAM_API_BASE_URL, so a local Bot API server or the tests'
fake (tests/fake_telegram.py) works unchanged. No AIORateLimiter: the outbox paces.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    ChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ChatType
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler
from telegram.request import BaseRequest, HTTPXRequest

from bot import groups
from bot.delivery import ChannelLimits, Delivery, Outcome, Result
from bot.events import EventKind, FileRef, IncomingEvent, Reply
from bot.logging_setup import register_secret
from bot.service import ChatService
from bot.settings import Settings
from storage.db import Database
from storage.repositories import groups as groups_repo

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
# https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this
LIMITS = ChannelLimits(per_second=30, per_chat_interval=1.0, group_per_minute=20, batch_size=1)
MAX_TEXT = 4096
MAX_CAPTION = 1024
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
GROUP_TYPES = (ChatType.GROUP, ChatType.SUPERGROUP)
GONE = (ChatMember.LEFT, ChatMember.BANNED)
PRESENT = (ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER)

COMMANDS = {
    "uk": [
        ("menu", "Головне меню й опитування"),
        ("criteria", "Критерії оцінювання"),
        ("language", "Мова / Language"),
        ("help", "Допомога"),
        ("forget", "Видалити мої дані"),
        ("cancel", "Скасувати"),
    ],
    "en": [
        ("menu", "Main menu and surveys"),
        ("criteria", "Assessment criteria"),
        ("language", "Language / Мова"),
        ("help", "Help"),
        ("forget", "Erase my data"),
        ("cancel", "Cancel"),
    ],
}
GROUP_COMMANDS = {
    "uk": [("bind", "Прив'язати групу до класу: /bind 7-А"), ("unbind", "Відв'язати групу")],
    "en": [("bind", "Bind this group to a class: /bind 7-А"), ("unbind", "Unbind this group")],
}


# ---------------------------------------------------------------- replies -> Telegram
def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces of at most `limit` characters, cut at a line break or space when there is one."""
    text = text or "…"  # Telegram refuses an empty text
    pieces = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = text.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = limit
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n ")
    pieces.append(text)
    return pieces


def inline_markup(reply: Reply) -> InlineKeyboardMarkup | None:
    rows = []
    for row in reply.buttons:
        buttons = []
        for button in row:
            label = button.label[:64] or "•"
            if button.url:
                buttons.append(InlineKeyboardButton(label, url=button.url))
            elif button.payload:
                buttons.append(InlineKeyboardButton(label, callback_data=button.payload))
        if buttons:
            rows.append(buttons)
    return InlineKeyboardMarkup(rows) if rows else None


def message_ref(chat_id: int, message_id: int) -> str:
    return f"{chat_id}:{message_id}"


def parse_ref(ref: str) -> tuple[int, int] | None:
    chat, _, message = ref.partition(":")
    try:
        return int(chat), int(message)
    except ValueError:
        return None


def _seconds(value: int | float | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the attribute becomes a timedelta
        warnings.simplefilter("ignore")
        return _seconds(exc.retry_after)


_EDIT_GONE = ("message to edit not found", "message can't be edited", "message is too old")


class TelegramTransport:
    """Sends one outbox row per request with PTB's Bot and says what the answer means."""

    channel = CHANNEL

    def __init__(self, bot: Bot, limits: ChannelLimits = LIMITS) -> None:
        self.bot = bot
        self.limits = limits

    def is_group(self, recipient: str) -> bool:
        return recipient.startswith("-")  # group and supergroup ids are negative

    async def send_batch(self, deliveries: list[Delivery]) -> list[Result]:
        return [await self.send_one(d) for d in deliveries]

    async def send_one(self, delivery: Delivery) -> Result:
        try:
            reply = Reply.from_json(delivery.payload["reply"])
            chat_id = int(delivery.recipient)
        except (KeyError, TypeError, ValueError) as exc:
            return Result(Outcome.FAILED, error=f"unusable outbox payload: {exc!r}"[:200])
        try:
            return Result(Outcome.SENT, message_id=await self._send(chat_id, reply))
        except RetryAfter as exc:
            wait = retry_after_seconds(exc)
            # Telegram's 429 means the bot as a whole is too fast: slow the global pace too.
            return Result(
                Outcome.RETRY,
                retry_after=wait,
                error=f"429 retry after {wait:.0f}s",
                slow_down=True,
            )
        except ChatMigrated as exc:
            return Result(Outcome.FAILED, error=f"group migrated to {exc.new_chat_id}")
        except Forbidden as exc:
            return Result(Outcome.UNREACHABLE, error=exc.message[:200])
        except BadRequest as exc:
            if "message is not modified" in exc.message.lower():
                return Result(Outcome.SENT)  # the chat already shows it: harmless
            return Result(Outcome.FAILED, error=f"400 {exc.message}"[:200])
        except (NetworkError, InvalidToken) as exc:  # TimedOut is a NetworkError; 5xx too
            return Result(Outcome.RETRY, error=f"{type(exc).__name__}: {exc.message}"[:200])
        except TelegramError as exc:
            return Result(Outcome.FAILED, error=f"{type(exc).__name__}: {exc.message}"[:200])
        except OSError as exc:  # a document's file went missing
            return Result(Outcome.FAILED, error=f"file: {exc.strerror or exc!r}"[:200])

    async def _send(self, chat_id: int, reply: Reply) -> str:
        markup = inline_markup(reply)
        if reply.edit_ref:
            edited = await self._edit(chat_id, reply, markup)
            if edited:
                return edited
        if reply.file is not None:
            return await self._send_file(chat_id, reply, markup)
        pieces = split_text(reply.text)
        last: Message | None = None
        for i, piece in enumerate(pieces):
            keyboard: Any = None
            if i == len(pieces) - 1:  # buttons under the last piece
                keyboard = markup or (ReplyKeyboardRemove() if reply.remove_keyboard else None)
            last = await self.bot.send_message(chat_id, piece, reply_markup=keyboard)
        assert last is not None
        return str(last.message_id)

    async def _edit(self, chat_id: int, reply: Reply, markup: InlineKeyboardMarkup | None) -> str:
        """Edit the message the button was on; "" when it cannot be edited (send anew)."""
        ref = parse_ref(reply.edit_ref)
        if ref is None or ref[0] != chat_id:
            return ""
        message_id = ref[1]
        try:
            if reply.keyboard_only:
                await self.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=markup)
            else:
                # Without reply_markup Telegram removes the inline keyboard: wanted for echoes.
                text = reply.text[:MAX_TEXT] or "…"
                await self.bot.edit_message_text(text, chat_id, message_id, reply_markup=markup)
        except BadRequest as exc:
            reason = exc.message.lower()
            if "message is not modified" in reason:
                return str(message_id)
            if any(gone in reason for gone in _EDIT_GONE):
                return ""
            raise
        return str(message_id)

    async def _send_file(
        self, chat_id: int, reply: Reply, markup: InlineKeyboardMarkup | None
    ) -> str:
        assert reply.file is not None
        caption = reply.text
        if len(caption) > MAX_CAPTION:
            for piece in split_text(caption):
                await self.bot.send_message(chat_id, piece)
            caption = ""
        if reply.file.path.startswith(FILE_REF_PREFIX):
            # A file a user sent to the bot earlier: Telegram re-sends it by its file_id.
            message = await self.bot.send_document(
                chat_id,
                reply.file.path.removeprefix(FILE_REF_PREFIX),
                caption=caption or None,
                reply_markup=markup,
            )
            return str(message.message_id)
        with Path(reply.file.path).open("rb") as handle:
            message = await self.bot.send_document(
                chat_id,
                handle,
                filename=reply.file.name,
                caption=caption or None,
                reply_markup=markup,
            )
        return str(message.message_id)


FILE_REF_PREFIX = "telegram-file:"  # see bot/criteria_ui.py: files kept in the messenger


async def publish_commands(bot: Bot) -> None:
    """setMyCommands: Ukrainian by default, English for language_code=en; groups get theirs."""
    for lang, commands in COMMANDS.items():
        code = None if lang == "uk" else lang
        await bot.set_my_commands(
            [BotCommand(c, d) for c, d in commands],
            scope=BotCommandScopeAllPrivateChats(),
            language_code=code,
        )
        await bot.set_my_commands(
            [BotCommand(c, d) for c, d in GROUP_COMMANDS[lang]],
            scope=BotCommandScopeAllGroupChats(),
            language_code=code,
        )


def build_bot(token: str, api_base_url: str, pool_size: int = 64) -> Bot:
    """A PTB Bot on TELEGRAM_API_BASE_URL (transport-only uses: benchmarks, CLI, tests)."""
    base = api_base_url.rstrip("/")
    return Bot(
        token,
        base_url=f"{base}/bot",
        base_file_url=f"{base}/file/bot",
        request=HTTPXRequest(connection_pool_size=pool_size),
    )


__all__ = [
    "CHANNEL",
    "LIMITS",
    "RetryAfter",
    "TelegramAdapter",
    "TelegramTransport",
    "build_bot",
    "publish_commands",
    "retry_after_seconds",
]


# ---------------------------------------------------------------- updates -> events
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


def group_event(update: Update, bot_username: str) -> groups.GroupEvent | None:
    """`/bind`, `/unbind` and the bot being added or removed, in a group; else None."""
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
        return groups.GroupEvent(
            CHANNEL,
            str(member.chat.id),
            kind,
            user_id,
            event_id=event_id,
            language_code=_language(update),
        )
    msg = update.message
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
    return groups.GroupEvent(
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


# ---------------------------------------------------------------- the adapter
class TelegramAdapter:
    """PTB Application + translation. `start()`/`stop()` are called by bot/runtime.py."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        service: ChatService,
        wake: Callable[[], None] = lambda: None,
        *,
        request: BaseRequest | None = None,
        get_updates_request: BaseRequest | None = None,
        limits: ChannelLimits = LIMITS,
        poll_timeout: float = 10.0,
    ) -> None:
        self.settings = settings
        self.db = db
        self.service = service
        self.wake = wake
        self.webhook = bool(settings.telegram_webhook_url)
        self.poll_timeout = poll_timeout
        self.webhook_secret = settings.telegram_webhook_secret or secrets.token_urlsafe(32)
        register_secret(settings.telegram_bot_token)
        register_secret(self.webhook_secret)
        base = settings.telegram_api_base_url.rstrip("/")
        builder = (
            ApplicationBuilder()
            .token(settings.telegram_bot_token)
            .base_url(f"{base}/bot")
            .base_file_url(f"{base}/file/bot")
            .request(request or HTTPXRequest(connection_pool_size=64))
            .get_updates_request(get_updates_request or HTTPXRequest())
        )
        if self.webhook:
            builder = builder.updater(None)  # updates arrive through bot/webapp.py
        self.application: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.application.add_error_handler(self._on_error)
        self.transport = TelegramTransport(self.application.bot, limits)
        self.username = settings.telegram_bot_username

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        app = self.application
        await app.initialize()  # getMe
        self.username = app.bot.username
        if self.settings.telegram_bot_username.lstrip("@") != self.username:
            # Deep links (group invitations) must name the bot that actually runs.
            self.settings.telegram_bot_username = self.username
        await self.set_commands()
        await app.start()
        if self.webhook:
            await app.bot.set_webhook(
                self.settings.telegram_webhook_url,
                secret_token=self.webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
            logger.info("telegram: webhook mode as @%s", self.username)
        else:
            assert app.updater is not None
            await app.updater.start_polling(
                timeout=int(self.poll_timeout), allowed_updates=ALLOWED_UPDATES
            )
            logger.info("telegram: long polling as @%s", self.username)

    async def stop(self) -> None:
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()

    async def set_commands(self) -> None:
        await publish_commands(self.application.bot)

    async def feed_webhook(self, data: dict[str, Any]) -> None:
        """A webhook payload (already authenticated by bot/webapp.py) into PTB's queue."""
        try:
            update = Update.de_json(data, self.application.bot)
        except Exception:  # malformed: nothing to process, and no content in the log
            logger.warning("telegram: dropped a malformed webhook update")
            return
        await self.application.update_queue.put(update)

    async def download_file(self, ref: str, dest: Path) -> Path:
        """Fetch a file a user sent (FileRef.ref) through base_file_url."""
        file = await self.application.bot.get_file(ref)
        return await file.download_to_drive(dest)

    # ------------------------------------------------------------ updates
    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await self._dispatch(update)
        except Exception:
            logger.exception("telegram: update %s could not be handled", update.update_id)
        finally:
            if update.callback_query is not None:
                await self._answer(update)

    async def _dispatch(self, update: Update) -> None:
        now = self.service.clock()
        grouped = group_event(update, self.username)
        if grouped is not None:
            await asyncio.to_thread(
                groups.process_group_event,
                self.db,
                grouped,
                now,
                self.settings.school_name,
                self.settings.bot_language,
            )
            self.wake()
            return
        msg = update.message
        if msg is not None and msg.migrate_to_chat_id:
            await asyncio.to_thread(self._migrate, str(msg.chat.id), str(msg.migrate_to_chat_id))
            return
        event = private_unreachable(update) or private_event(update)
        if event is None:
            return
        handled = await asyncio.to_thread(self.service.handle_full, event)
        if not handled.duplicate:
            self.wake()

    def _migrate(self, old: str, new: str) -> None:
        with self.db.write() as session:
            groups_repo.migrate_chat(session, CHANNEL, old, new)

    async def _answer(self, update: Update) -> None:
        """Every press is answered, or the user's client shows a spinner for a while."""
        assert update.callback_query is not None
        try:
            await update.callback_query.answer()
        except TelegramError as exc:  # too old (a duplicate), or the network: harmless
            logger.debug("telegram: answerCallbackQuery failed: %s", exc.message)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        logger.error("telegram: %s", type(context.error).__name__ if context.error else "error")
