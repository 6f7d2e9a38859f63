"""The real bot (PTB Application + ChatService + OutboxSender) against the fake Bot API, in
process: PTB reaches tests/fake_telegram.py through its request layer (FakeRequest), no sockets.

`async with running_bot(fake, settings, db) as bot:` starts long polling and the outbox sender;
leaving the block stops both, as a process exit would. The database outlives it, so a second
block is the bot after a restart. `running_bot(..., telegram_webhook_url=...)` is webhook mode;
`webhook_client(bot)` then serves its route on uvicorn and gives an HTTP client for it.

`await bot.settle()` returns once everything the test set going has been handled: webhook
requests answered (their background work too), every update queued at the fake fetched by the
long poll, the inbox drained (state stored, replies queued in the outbox), and an
outbox round started after that found nothing due (what was sent is in the fake's chats). Each
step awaits an event; nothing polls or sleeps. Tests then assert what the user sees.

The bot modules the Telegram tests need are imported here (and re-exported below), so moving
them is an edit of this file.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import uvicorn
from telegram import Bot

from bot.channels.telegram.client import TelegramAdapter
from bot.channels.telegram.transport import TelegramTransport, split_text
from bot.channels.webapp import TELEGRAM_SECRET_HEADER, build_app, telegram_webhook_route
from bot.conversation.service import ChatService
from bot.delivery.contract import ChannelLimits, Delivery, Outcome, Result, Transport
from bot.delivery.outbox import OutboxSender
from bot.runtime import wake_from_threads
from bot.settings import Settings
from storage.db import Database
from tests.fake_telegram import FakeTelegram
from tests.fake_telegram_request import IN_PROCESS_URL, FakeRequest
from tests.school import SchoolBuilder

__all__ = [
    "FAST",
    "TELEGRAM_SECRET_HEADER",
    "ChannelLimits",
    "Delivery",
    "OutboxSender",
    "Outcome",
    "Result",
    "RunningBot",
    "SchoolData",
    "SettlingSender",
    "TelegramTransport",
    "Transport",
    "running_bot",
    "seed_school",
    "split_text",
    "telegram_settings",
    "transport_bot",
    "webhook_client",
]

# Dialog tests are about what the user sees, not about pacing: no waiting between messages.
FAST = ChannelLimits(
    per_second=10_000, per_chat_interval=0.0, group_per_minute=100_000, per_chat_burst=100
)
SETTLE_SECONDS = 10.0


def telegram_settings(
    settings: Settings, fake: FakeTelegram, base_url: str = IN_PROCESS_URL, **more: object
) -> Settings:
    """Settings for the bot of `fake`; `base_url` is the HTTP front's for code that builds its
    own HTTPXRequest (the CLI, `serve`)."""
    return settings.model_copy(
        update={"telegram_bot_token": fake.token, "telegram_api_base_url": base_url, **more}
    )


def transport_bot(fake: FakeTelegram) -> Bot:
    """A PTB Bot reaching `fake` in process (for TelegramTransport on its own)."""
    return Bot(
        fake.token,
        base_url=f"{IN_PROCESS_URL}/bot",
        base_file_url=f"{IN_PROCESS_URL}/file/bot",
        request=FakeRequest(fake),
        get_updates_request=FakeRequest(fake),
    )


class SettlingSender(OutboxSender):
    """The outbox sender, telling when each lane found nothing due and nothing in flight."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._started = 0  # claims started, over all lanes
        self._idle_at: dict[int, int] = {}  # lane -> the last claim that found it settled
        self._round_end = asyncio.Condition()

    async def _round(self, lane: Any) -> int:
        self._started += 1
        number = self._started
        handled = await super()._round(lane)
        async with self._round_end:
            if handled == 0 and not lane.tasks:
                self._idle_at[id(lane)] = number
            self._round_end.notify_all()
        return handled

    async def _deliver(self, lane: Any, *args: Any) -> None:
        try:
            await super()._deliver(lane, *args)
        finally:
            # A lane whose last claim found nothing while this send was in flight would poll
            # again only a second later (POLL_SECONDS); a settle waits for that claim: now.
            lane.wake.set()

    def _settled_since(self, target: int) -> bool:
        lanes = list(self._lanes.values())
        return bool(lanes) and all(self._idle_at.get(id(lane), 0) >= target for lane in lanes)

    async def drained(self) -> None:
        """Until a claim of every lane that starts now (they are woken) finds nothing due."""
        target = self._started + 1
        self.wake()
        async with self._round_end:
            await self._round_end.wait_for(lambda: self._settled_since(target))


@dataclass
class InFlight:
    """ASGI middleware counting the requests in flight; starlette runs a response's background
    task (the webhook's feeding of PTB) before the app call returns, so those count too."""

    count: int = 0
    _done: asyncio.Condition = field(default_factory=asyncio.Condition)

    def wrap(self, app: Any) -> Any:
        async def counted(scope: Any, receive: Any, send: Any) -> None:
            self.count += 1
            try:
                await app(scope, receive, send)
            finally:
                self.count -= 1
                async with self._done:
                    self._done.notify_all()

        return counted

    async def idle(self) -> None:
        async with self._done:
            await self._done.wait_for(lambda: self.count == 0)


@dataclass
class RunningBot:
    fake: FakeTelegram
    adapter: TelegramAdapter
    sender: SettlingSender
    service: ChatService
    inbound: InFlight = field(default_factory=InFlight)

    async def settle(self, timeout: float = SETTLE_SECONDS) -> None:
        """Until everything set going so far is handled and its replies are sent (see above)."""
        fake = self.fake
        step = "webhook requests"
        try:
            async with asyncio.timeout(timeout):
                await self.inbound.idle()
                step = "the long poll fetching the queued updates"
                await fake.wait_for(lambda: fake.unconfirmed_updates() == 0, None)
                step = "the inbox processing the stored updates"
                await self.adapter.inbox.drained()
                step = "the outbox sending what is due"
                await self.sender.drained()
                step = "the presses' answers (answerCallbackQuery)"
                await self.adapter.answered()
        except TimeoutError:
            raise AssertionError(f"not settled in {timeout}s: waiting for {step}") from None


@asynccontextmanager
async def running_bot(
    fake: FakeTelegram,
    settings: Settings,
    db: Database,
    limits: ChannelLimits = FAST,
    **more: object,
) -> AsyncIterator[RunningBot]:
    """The bot of `fake` running; `more` are settings (a webhook URL: webhook mode)."""
    settings = telegram_settings(settings, fake, IN_PROCESS_URL, **more)
    service = ChatService(db, settings)
    holder: list[OutboxSender] = []
    adapter = TelegramAdapter(
        settings,
        db,
        service,
        wake=lambda: holder[0].wake(),
        request=FakeRequest(fake),
        get_updates_request=FakeRequest(fake),
        limits=limits,
        poll_timeout=30,  # a long poll in process ends as soon as an update is queued
    )
    sender = SettlingSender(db, {"telegram": adapter.transport}, settings)
    holder.append(sender)
    stop = asyncio.Event()
    await adapter.start()
    task = asyncio.create_task(sender.run_forever(stop))
    service.after_background = wake_from_threads(sender.wake)  # as bot/runtime.py does
    try:
        yield RunningBot(fake, adapter, sender, service)
    finally:
        stop.set()
        sender.wake()
        await task
        await adapter.stop()


@asynccontextmanager
async def webhook_client(bot: RunningBot) -> AsyncIterator[httpx.AsyncClient]:
    """The webhook route of a bot in webhook mode on uvicorn (real HTTP on 127.0.0.1), and a
    client for it; `bot.settle()` then also waits for the requests in flight."""
    adapter = bot.adapter
    app = build_app([telegram_webhook_route(adapter.webhook_secret, adapter.feed_webhook)])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()  # connections wait in the backlog until uvicorn serves: no waiting for it
    port = sock.getsockname()[1]
    config = uvicorn.Config(bot.inbound.wrap(app), log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            yield client
    finally:
        server.should_exit = True
        await serving
        sock.close()


@dataclass
class SchoolData:
    class_id: int
    wave_id: int
    parent_code: str
    teacher_code: str


def seed_school(db: Database, settings: Settings, now: datetime | None = None) -> SchoolData:
    """Class 7-А, invites for a parent and the class teacher, the parents' survey open."""
    now = now or datetime.now(UTC) - timedelta(minutes=1)
    builder = SchoolBuilder.create(db, settings, ("7-А",))
    wave_id = builder.wave("assessment-parents", now, label="2026-03")
    return SchoolData(
        builder.class_ids["7-А"],
        wave_id,
        builder.invite("7-А", "parent", now),
        builder.invite("7-А", "class_teacher", now),
    )
