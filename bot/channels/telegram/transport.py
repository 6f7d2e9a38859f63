"""Replies -> Telegram: `TelegramTransport` delivers outbox rows (bot/delivery/contract.py)
with PTB's `Bot` and says what each answer means (sent, retry, unreachable, failed)."""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from pathlib import Path
from typing import Any

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardRemove,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest

from bot.channels.telegram import CHANNEL
from bot.channels.telegram.inbound import parse_ref
from bot.delivery.contract import ChannelLimits, Delivery, Outcome, Result
from bot.engine.events import Reply

logger = logging.getLogger(__name__)

# https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this
LIMITS = ChannelLimits(per_second=30, per_chat_interval=1.0, group_per_minute=20, batch_size=1)
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_PHOTO_BYTES = 10 * 1024 * 1024  # sendPhoto's limit
PHOTO_MIMES = frozenset({"image/png", "image/jpeg"})


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
        file = reply.file
        as_photo = file.mime in PHOTO_MIMES
        if file.path.startswith(FILE_REF_PREFIX):
            # A file a user sent to the bot earlier: Telegram re-sends it by its file_id. A
            # file_id keeps its type (photo or document); the stored mime is only a hint, so a
            # "type of file mismatch" is answered by the other method.
            file_id = file.path.removeprefix(FILE_REF_PREFIX)
            try:
                message = await self._file_message(
                    chat_id, file_id, None, caption, markup, as_photo
                )
            except BadRequest as exc:
                if "type" not in exc.message.lower():
                    raise
                message = await self._file_message(
                    chat_id, file_id, None, caption, markup, not as_photo
                )
            return str(message.message_id)
        path = Path(file.path)
        # A chart or a QR code reads best as a picture in the chat, not a file to open; Telegram
        # takes photos up to 10 MB and refuses odd dimensions, which then go as a document.
        as_photo = as_photo and path.stat().st_size <= MAX_PHOTO_BYTES
        if as_photo:
            try:
                with path.open("rb") as handle:
                    message = await self._file_message(
                        chat_id, handle, file.name, caption, markup, True
                    )
                return str(message.message_id)
            except BadRequest as exc:
                logger.info("photo refused (%s): sending it as a document", exc.message)
        with path.open("rb") as handle:
            message = await self._file_message(chat_id, handle, file.name, caption, markup, False)
        return str(message.message_id)

    async def _file_message(
        self,
        chat_id: int,
        content: Any,
        filename: str | None,
        caption: str,
        markup: InlineKeyboardMarkup | None,
        as_photo: bool,
    ) -> Message:
        """sendPhoto or sendDocument with the same caption and buttons."""
        if as_photo:
            return await self.bot.send_photo(
                chat_id, content, filename=filename, caption=caption or None, reply_markup=markup
            )
        return await self.bot.send_document(
            chat_id, content, filename=filename, caption=caption or None, reply_markup=markup
        )


FILE_REF_PREFIX = "telegram-file:"  # see bot/criteria/rendering.py: files kept in the messenger


def build_bot(token: str, api_base_url: str, pool_size: int = 64) -> Bot:
    """A PTB Bot on TELEGRAM_API_BASE_URL (transport-only uses: benchmarks, CLI, tests)."""
    base = api_base_url.rstrip("/")
    return Bot(
        token,
        base_url=f"{base}/bot",
        base_file_url=f"{base}/file/bot",
        request=HTTPXRequest(connection_pool_size=pool_size),
    )
