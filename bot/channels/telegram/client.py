"""The running Telegram bot: PTB's `Application` (long polling, or a webhook served by
bot/channels/webapp.py), the command menu, and the hand-over of each update's event to the
ChatService. Nothing is sent from here: replies are queued in the outbox by the transaction that
stored the state, and the sender is woken."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    Update,
)
from telegram.error import (
    TelegramError,
)
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler
from telegram.request import BaseRequest, HTTPXRequest

from bot.channels.capabilities import TELEGRAM_USERNAME, IdentityReport
from bot.channels.telegram import CHANNEL
from bot.channels.telegram.inbound import (
    ALLOWED_UPDATES,
    group_event,
    private_event,
    private_unreachable,
)
from bot.channels.telegram.transport import LIMITS, TelegramTransport
from bot.conversation.service import ChatService
from bot.delivery.contract import ChannelLimits
from bot.logging_setup import register_secret
from bot.settings import Settings, reveal
from storage.db import Database

logger = logging.getLogger(__name__)

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


class TelegramAdapter:
    """PTB Application + translation. `start()`/`stop()` are called by bot/runtime.py."""

    channel = CHANNEL

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
        on_identity: IdentityReport | None = None,
    ) -> None:
        self.settings = settings
        # The composition root stores what the bot learns about itself (getMe): adapters never
        # write storage, and Settings stay what the environment said.
        self.on_identity = on_identity
        self.db = db
        self.service = service
        self.wake = wake
        self.webhook = bool(settings.telegram_webhook_url)
        self.poll_timeout = poll_timeout
        self.webhook_secret = reveal(settings.telegram_webhook_secret) or secrets.token_urlsafe(32)
        register_secret(reveal(settings.telegram_bot_token))
        register_secret(self.webhook_secret)
        base = settings.telegram_api_base_url.rstrip("/")
        builder = (
            ApplicationBuilder()
            .token(reveal(settings.telegram_bot_token))
            .base_url(f"{base}/bot")
            .base_file_url(f"{base}/file/bot")
            .request(request or HTTPXRequest(connection_pool_size=64))
            .get_updates_request(get_updates_request or HTTPXRequest())
        )
        if self.webhook:
            builder = builder.updater(None)  # updates arrive through bot/channels/webapp.py
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
        if self.on_identity is not None:
            # Deep links (invites, group invitations) must name the bot that actually runs.
            await asyncio.to_thread(self.on_identity, *TELEGRAM_USERNAME, self.username)
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
        """A webhook payload (already authenticated by bot/channels/webapp.py) into PTB's queue."""
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
        grouped = group_event(update, self.username)
        if grouped is not None:
            await asyncio.to_thread(self.service.handle_group, grouped)
            self.wake()
            return
        event = private_unreachable(update) or private_event(update)
        if event is None:
            return
        handled = await asyncio.to_thread(self.service.handle_full, event)
        if not handled.duplicate:
            self.wake()

    async def _answer(self, update: Update) -> None:
        """Every press is answered, or the user's client shows a spinner for a while."""
        assert update.callback_query is not None
        try:
            await update.callback_query.answer()
        except TelegramError as exc:  # too old (a duplicate), or the network: harmless
            logger.debug("telegram: answerCallbackQuery failed: %s", exc.message)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        logger.error("telegram: %s", type(context.error).__name__ if context.error else "error")
