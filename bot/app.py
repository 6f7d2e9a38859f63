"""The composition root: what `classpulse run`, the demo and the CLI are built from.

Everything that is chosen once per process is chosen here: the routing table the chat service
uses (bot/routes.py), the components `run` starts (Telegram, Viber, the scheduler) and the
hooks the outbox sender calls. Nothing else imports this module but the entry points.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.channels.capabilities import VIBER_URI, IdentityReport, capabilities
from bot.context import AppContext
from bot.conversation.service import ChatService
from bot.criteria.remote_files import RemoteFileFetcher
from bot.criteria.service import notice_sent
from bot.delivery.contract import Transport
from bot.members.identity import bot_identity
from bot.runtime import Component, ComponentFactory, Runtime, serve, wake_from_threads
from bot.schedule.component import SchedulerComponent
from bot.staff.command_menu import StaffMenuSync
from bot.surveys.admin import invite_waiting_groups
from bot.usage.cost import usage_hook
from storage.repositories import identity

if TYPE_CHECKING:  # starlette loads only when a webhook is served (bot/runtime.py)
    from starlette.routing import BaseRoute

logger = logging.getLogger(__name__)
FETCH_INTERVAL = 5.0  # seconds between looks for notice files waited for in other channels
# Seconds between looks for staff whose command menu changed (a new class teacher, a role
# removed in /staff or the CLI, perhaps by another process): one small query.
STAFF_MENU_INTERVAL = 60.0


def chat_service(app: AppContext, *, outbox_channels: frozenset[str] | None = None) -> ChatService:
    """The chat service on the app's database; `outbox_channels=frozenset()` answers directly
    (console, demo) instead of queueing replies for the outbox sender."""
    if outbox_channels is None:
        return ChatService(app.db, app.settings, clock=app.clock)
    return ChatService(app.db, app.settings, clock=app.clock, outbox_channels=outbox_channels)


def identity_recorder(rt: Runtime) -> IdentityReport:
    """What an adapter reports about the bot (getMe's username, Viber's URI) is stored, so that
    every command builds working links; a new identity invites the class groups of open waves
    that were opened while it was unknown."""

    def record(channel: str, key: str, value: str) -> None:
        now = rt.clock()
        with rt.db.write() as session:
            if not identity.remember(session, channel, key, value, now):
                return
            queued = invite_waiting_groups(session, bot_identity(session, rt.settings), now)
        logger.info("bot identity: %s %s is %s", channel, key, value)
        if queued:
            rt.wake()

    return record


class TelegramComponent:
    """The Telegram adapter (bot/channels/telegram/) as a runtime component."""

    name = "telegram"

    def __init__(self, rt: Runtime) -> None:
        from bot.channels.telegram import transport  # PTB loads only when used
        from bot.channels.telegram.client import TelegramAdapter

        self.adapter = TelegramAdapter(
            rt.settings,
            rt.db,
            rt.service,
            wake=rt.wake,
            limits=transport.LIMITS,  # looked up now: a test may set another pace
            on_identity=identity_recorder(rt),
        )
        self.transports: dict[str, Transport] = {self.adapter.channel: self.adapter.transport}
        self.routes: list[BaseRoute] = []
        if self.adapter.webhook:
            from bot.channels.webapp import telegram_webhook_route

            self.routes.append(
                telegram_webhook_route(self.adapter.webhook_secret, self.adapter.feed_webhook)
            )

        # Files teachers sent here, fetched once for the channels that need a link (Viber).
        self.fetcher = RemoteFileFetcher(
            rt.db, rt.settings, rt.clock, {self.adapter.channel: self.adapter.download_file}
        )
        self.wake = rt.wake
        self.db = rt.db
        self.menus = StaffMenuSync(
            rt.db, self.adapter.channel, self.adapter.publish_staff_menus, rt.clock
        )
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        await self.adapter.start()
        self._tasks = [
            asyncio.create_task(_every(FETCH_INTERVAL, self._fetch, "fetching notice files")),
            asyncio.create_task(
                _every(STAFF_MENU_INTERVAL, self._staff_menus, "publishing staff command menus")
            ),
        ]

    async def _fetch(self) -> None:
        if await self.fetcher.run_once():
            self.wake()

    async def _staff_menus(self) -> None:
        await self.menus.run_once()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.adapter.stop()


async def _every(seconds: float, work: Callable[[], Awaitable[None]], what: str) -> None:
    """`work()` now and every `seconds`, until cancelled; a failed round is logged and the next
    one tries again (the database away for a moment)."""
    while True:
        try:
            await work()
        except Exception:
            logger.exception("%s failed", what)
        await asyncio.sleep(seconds)


def telegram_component(rt: Runtime) -> Component | None:
    return TelegramComponent(rt) if rt.settings.telegram_enabled else None


class ViberComponent:
    """The Viber parts (bot/channels/viber/) as a runtime component."""

    name = "viber"

    def __init__(self, rt: Runtime) -> None:
        from bot.channels.viber.setup import build_viber  # viberbot loads only when used

        self.settings = rt.settings
        self.record_identity = identity_recorder(rt)
        self.parts = build_viber(rt.settings, rt.db, rt.clock, wake=rt.wake)
        self.wake = rt.wake
        self.transports: dict[str, Transport] = {self.parts.transport.channel: self.parts.transport}
        self.routes: list[BaseRoute] = list(self.parts.routes)
        if capabilities(self.parts.transport.channel).sends_files_by_url:
            from bot.files.web import files_route

            self.routes.append(files_route(rt.db, rt.settings, rt.clock))

    async def start(self) -> None:
        # Viber's adapter has its own chat service: a slow job's replies (a report, a Forms
        # import) wake the sender as the main service's do, not at its next poll.
        self.parts.adapter.service.after_background = wake_from_threads(self.wake)
        self.parts.adapter.start_worker()

    async def on_listening(self) -> None:
        from bot.channels.viber.client import ViberError
        from bot.channels.viber.setup import register_webhook

        await register_webhook(self.parts, self.settings)
        try:
            account = await self.parts.client.account_info()
        except ViberError as exc:
            logger.warning("viber: get_account_info failed: %s", exc)
            return
        if isinstance(account.get("uri"), str):
            await asyncio.to_thread(self.record_identity, *VIBER_URI, account["uri"])

    async def stop(self) -> None:
        await self.parts.stop()


def viber_component(rt: Runtime) -> Component | None:
    return ViberComponent(rt) if rt.settings.viber_enabled else None


def scheduler_component(rt: Runtime) -> Component | None:
    # Without a messenger nothing would deliver what the jobs queue.
    if not (rt.settings.telegram_enabled or rt.settings.viber_enabled):
        return None
    return SchedulerComponent(rt)


COMPONENTS: tuple[ComponentFactory, ...] = (
    telegram_component,
    viber_component,
    scheduler_component,
)


async def serve_all(app: AppContext, stop: asyncio.Event | None = None) -> None:
    """Every configured component until SIGINT/SIGTERM (or `stop`)."""
    hooks = [notice_sent, usage_hook(app.settings)]
    await serve(app, COMPONENTS, stop, after_sent=hooks, service=chat_service(app))


def run(app: AppContext) -> None:
    """`classpulse run` with messenger tokens (the caller has migrated the database)."""
    asyncio.run(serve_all(app))
