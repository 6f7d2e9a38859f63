"""The running Telegram bot: PTB's `Bot` (through an `Application`), our own long poll or a
webhook served by bot/channels/webapp.py, the command menu, and the hand-over of each update's
event to the ChatService. Nothing is sent from here: replies are queued in the outbox by the
transaction that stored the state, and the sender is woken.

No acknowledged update is lost: every update is stored in the inbox (bot/conversation/inbox.py)
before Telegram hears it arrived (the next getUpdates offset, or the webhook's 200), and is
processed from there, in order within a chat, exactly once even after a crash.

Several processes on one database: only the holder of the lease "poller:telegram"
(bot/leases.py) calls getUpdates (Telegram allows one poller per token: 409 otherwise); the
others take over within the lease's ttl when it dies. Webhook mode needs no lease: any process
may receive an update, and the inbox orders them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    TelegramError,
)
from telegram.ext import Application, ApplicationBuilder
from telegram.request import BaseRequest, HTTPXRequest

from bot.channels.capabilities import TELEGRAM_USERNAME, CommandMenu, IdentityReport
from bot.channels.telegram import CHANNEL
from bot.channels.telegram.inbound import (
    ALLOWED_UPDATES,
    group_event,
    private_event,
    private_unreachable,
)
from bot.channels.telegram.transport import LIMITS, TelegramTransport
from bot.conversation.inbox import Inbox, NewUpdate
from bot.conversation.service import ChatService
from bot.delivery.contract import ChannelLimits
from bot.files.inbound import from_loop
from bot.leases import Lease
from bot.logging_setup import register_secret
from bot.settings import Settings, reveal
from storage.db import Database

logger = logging.getLogger(__name__)

POLLER_LEASE = "poller:" + CHANNEL
LEASE_RETRY_SECONDS = 5.0  # how often a process without the poller lease tries to take it
START_BACKOFF_CAP = 60.0
POLL_BACKOFF_CAP = 30.0


def update_chat(update: Update) -> str:
    """The chat whose updates must be processed in order (the update itself if it has none)."""
    chat = update.effective_chat
    return str(chat.id) if chat is not None else f"u{update.update_id}"


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


# A staff member's own menu (bot/staff/command_menu.py): everyone's commands and theirs.
STAFF_COMMANDS = {
    "uk": {
        "criteria_new": "Оприлюднити критерії оцінювання",
        "coverage": "Хто ознайомився з критеріями",
        "report": "Звіт за опитуванням",
        "rates": "Скільки відповіли; нагадати",
        "survey": "Відкрити чи закрити опитування",
        "invite": "Запрошення, посилання й QR-код",
        "staff": "Працівники та їхні ролі",
    },
    "en": {
        "criteria_new": "Publish assessment criteria",
        "coverage": "Who has read the criteria",
        "report": "Survey report",
        "rates": "Response rates; remind",
        "survey": "Open or close a survey",
        "invite": "Invitations, links and QR code",
        "staff": "Staff and their roles",
    },
}


def menu_commands(menu: CommandMenu) -> list[BotCommand]:
    """/menu first, then the staff commands, then everyone's others, in the person's language."""
    lang = menu.language if menu.language in COMMANDS else "uk"
    family = [BotCommand(c, d) for c, d in COMMANDS[lang]]
    staff = [
        BotCommand(c, STAFF_COMMANDS[lang][c]) for c in menu.commands if c in STAFF_COMMANDS[lang]
    ]
    return family[:1] + staff + family[1:]


async def publish_chat_menus(
    bot: Bot, menus: list[CommandMenu], published: dict[str, CommandMenu]
) -> int:
    """Each staff chat's own menu (setMyCommands, scope: that chat), only where it changed since
    `published`; a chat whose person is no longer staff gets everyone's menu back. Updates
    `published`; returns how many chats were changed."""
    wanted = {m.account: m for m in menus}
    changed = 0
    for account, menu in wanted.items():
        if published.get(account) == menu or not account.lstrip("-").isdigit():
            continue
        try:
            await bot.set_my_commands(menu_commands(menu), scope=BotCommandScopeChat(int(account)))
        except (BadRequest, Forbidden) as exc:  # the chat is gone: do not ask again each round
            logger.info("telegram: a staff menu was refused (%s)", type(exc).__name__)
        except TelegramError as exc:  # the network, a flood wait: the next round tries again
            logger.warning("telegram: a staff menu was not set (%s)", type(exc).__name__)
            continue
        published[account] = menu
        changed += 1
    for account in [a for a in published if a not in wanted]:
        try:
            await bot.delete_my_commands(scope=BotCommandScopeChat(int(account)))
        except (BadRequest, Forbidden):
            pass
        except TelegramError as exc:
            logger.warning("telegram: a staff menu was not removed (%s)", type(exc).__name__)
            continue
        del published[account]
        changed += 1
    return changed


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
        # Every process behind a load balancer must check the same secret: without a
        # configured one, it is derived from the token (whoever has the token owns the bot).
        self.webhook_secret = (
            reveal(settings.telegram_webhook_secret)
            or hashlib.sha256(
                b"classpulse-webhook-secret:" + reveal(settings.telegram_bot_token).encode()
            ).hexdigest()
        )
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
        # Updates arrive through our poll (`_poll`) or bot/channels/webapp.py, into the inbox.
        builder = builder.updater(None)
        self.application: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.transport = TelegramTransport(self.application.bot, limits)
        self.username = settings.telegram_bot_username
        self.inbox = Inbox(db, CHANNEL, self.process_update)
        self.poller_lease = Lease(
            db, POLLER_LEASE, ttl=timedelta(seconds=max(20.0, poll_timeout + 10.0))
        )
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._answering: set[asyncio.Task[None]] = set()  # answerCallbackQuery under way
        self._offset: int | None = None

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        app = self.application
        await self._until_reachable()  # getMe, retried while the Bot API cannot be reached
        self.username = app.bot.username
        if self.on_identity is not None:
            # Deep links (invites, group invitations) must name the bot that actually runs.
            await asyncio.to_thread(self.on_identity, *TELEGRAM_USERNAME, self.username)
        await self.set_commands()
        # Files people send (a Forms export) are fetched by jobs off the loop, through it.
        self.service.add_file_source(
            CHANNEL, from_loop(self.download_file, asyncio.get_running_loop())
        )
        self._stop.clear()
        self._tasks.append(asyncio.create_task(self.inbox.run(self._stop), name="tg-inbox"))
        if self.webhook:
            await app.bot.set_webhook(
                self.settings.telegram_webhook_url,
                secret_token=self.webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
            logger.info("telegram: webhook mode as @%s", self.username)
        else:
            self._tasks.append(asyncio.create_task(self._poll(), name="tg-poll"))
            logger.info(
                "telegram: long polling as @%s (when this process holds the lease)", self.username
            )

    async def _until_reachable(self) -> None:
        delay = self.settings.telegram_start_retry_seconds
        while True:
            try:
                await self.application.initialize()
                return
            except InvalidToken:
                raise
            except NetworkError as exc:  # TimedOut too; not a refused token
                logger.warning(
                    "telegram: waiting for the Bot API at %s (%s); retrying in %g s",
                    self.settings.telegram_api_base_url,
                    type(exc).__name__,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, START_BACKOFF_CAP)

    async def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            if task.get_name() == "tg-poll":
                task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.answered()
        if self.poller_lease.held and self._offset is not None:
            # Confirm what is stored, so the next poller does not fetch it again.
            with contextlib.suppress(TelegramError):
                await self.application.bot.get_updates(offset=self._offset, timeout=0, limit=1)
        await self.poller_lease.release()
        await self.application.shutdown()

    # ------------------------------------------------------------ long polling
    async def _poll(self) -> None:
        """getUpdates while this process holds the poller lease; store, then confirm."""
        bot = self.application.bot
        backoff = 1.0
        while not self._stop.is_set():
            if not await self.poller_lease.hold():
                self._offset = None  # whoever polls confirms; start from Telegram's view
                await self._pause(LEASE_RETRY_SECONDS)
                continue
            try:
                updates = await bot.get_updates(
                    offset=self._offset,
                    timeout=int(self.poll_timeout),
                    allowed_updates=ALLOWED_UPDATES,
                    read_timeout=self.poll_timeout + 5,
                )
            except InvalidToken:
                raise
            except Conflict:  # another poller (outside this database's processes?)
                logger.warning("telegram: another getUpdates is running for this token")
                await self._pause(LEASE_RETRY_SECONDS)
                continue
            except TelegramError as exc:
                logger.warning("telegram: getUpdates failed (%s); retrying", type(exc).__name__)
                await self._pause(backoff)
                backoff = min(backoff * 2, POLL_BACKOFF_CAP)
                continue
            backoff = 1.0
            if not updates:
                continue
            try:
                await self.inbox.store(
                    [NewUpdate(str(u.update_id), update_chat(u), u.to_dict()) for u in updates]
                )
            except Exception:  # not stored: not confirmed either, Telegram keeps them
                logger.exception("telegram: could not store %d updates", len(updates))
                await self._pause(backoff)
                backoff = min(backoff * 2, POLL_BACKOFF_CAP)
                continue
            self._offset = updates[-1].update_id + 1  # confirmed by the next getUpdates

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)

    async def set_commands(self) -> None:
        await publish_commands(self.application.bot)

    async def publish_staff_menus(
        self, menus: list[CommandMenu], published: dict[str, CommandMenu]
    ) -> int:
        """Staff members' own command menus, where they differ from `published` (updated)."""
        return await publish_chat_menus(self.application.bot, menus, published)

    async def feed_webhook(self, data: dict[str, Any]) -> None:
        """A webhook payload (already authenticated by bot/channels/webapp.py) into the inbox;
        the route answers 200 only once this returns (an exception: 500, Telegram retries)."""
        try:
            update = Update.de_json(data, self.application.bot)
        except Exception:  # malformed: nothing to process, and no content in the log
            logger.warning("telegram: dropped a malformed webhook update")
            return
        if update is None or not isinstance(update.update_id, int):
            logger.warning("telegram: dropped a webhook update without an update_id")
            return
        await self.inbox.store([NewUpdate(str(update.update_id), update_chat(update), data)])

    async def download_file(self, ref: str, dest: Path) -> Path:
        """Fetch a file a user sent (FileRef.ref) through base_file_url."""
        file = await self.application.bot.get_file(ref)
        return await file.download_to_drive(dest)

    # ------------------------------------------------------------ updates
    async def process_update(self, data: dict[str, Any]) -> None:
        """One stored update (the inbox calls this; an exception: it is retried)."""
        try:
            update = Update.de_json(data, self.application.bot)
        except Exception:
            logger.warning("telegram: dropped a stored update that does not parse")
            return
        if update is None:
            return
        try:
            await self._dispatch(update)
        finally:
            if update.callback_query is not None:
                # Beside the chat's next update, not before it: the reply is already queued,
                # and the spinner's answer is one more request nobody needs to wait for.
                task = asyncio.create_task(self._answer(update))
                self._answering.add(task)
                task.add_done_callback(self._answering.discard)

    async def answered(self) -> None:
        """Until every press handled so far has been answered (answerCallbackQuery)."""
        while self._answering:
            await asyncio.gather(*self._answering, return_exceptions=True)

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
