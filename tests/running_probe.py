"""`classpulse run` as bot/app.py composes it, in a fresh interpreter, for the tests and
benchmarks that must look at a running bot from inside (what it loaded, its RSS after a report).

A probe script run with `python -c` (cwd: the repository) calls `serve_with(...)`: every
component starts against an in-process fake Bot API over HTTP; once the outbox sender runs,
`look(rt, app)` is awaited in the bot's loop, then the bot stops. Only what a running bot
imports anyway is imported here, so what the probe sees is the bot's own."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot.context import AppContext
from bot.runtime import Runtime
from bot.settings import load_settings
from tests.fake_telegram import FakeTelegram
from tests.fake_telegram_server import FakeTelegramServer

Look = Callable[[Runtime, AppContext], Awaitable[None]]


class _Probe:
    """A component started after every other one: waits for the sender, looks, stops the bot."""

    name = "probe"

    def __init__(self, rt: Runtime, app: AppContext, look: Look, stop: asyncio.Event) -> None:
        self.rt, self.app, self.look, self.stop_event = rt, app, look, stop
        self.transports: dict[str, Any] = {}
        self.routes: list[Any] = []

    async def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            while self.rt.sender is None:
                await asyncio.sleep(0.01)
            await self.look(self.rt, self.app)
        finally:  # a failed look must stop the bot too, not hang the caller
            self.stop_event.set()

    async def stop(self) -> None:
        await self.task


def serve_with(url: str, data_dir: str | Path, look: Look, **settings: Any) -> None:
    """Migrate and run the bot on `url` until `look` has run; `settings` override the rest."""
    fake = FakeTelegram()
    with FakeTelegramServer(fake) as server:
        app = AppContext(
            settings=load_settings(
                _env_file=None,
                database_url=url,
                data_dir=Path(data_dir),
                quiet_hours="",
                telegram_bot_token=fake.token,
                telegram_api_base_url=server.base_url,
                **settings,
            )
        )
        app.migrate()  # as `classpulse run` does
        from bot import app as composition
        from bot.runtime import serve

        async def main() -> None:
            stop = asyncio.Event()
            factories = (*composition.COMPONENTS, lambda rt: _Probe(rt, app, look, stop))
            await serve(app, factories, stop, service=composition.chat_service(app))

        asyncio.run(main())
