"""`serve`: the runtime starts the adapter and the sender, and stops them on request.

`serve` builds the adapter with its own HTTPXRequest: PTB reaches the fake Bot API over real
HTTP here (tests/fake_telegram_server.py), which keeps that path covered."""

from __future__ import annotations

import asyncio

from starlette.routing import BaseRoute

from bot.app import telegram_component
from bot.cli.app import AppContext
from bot.runtime import Runtime, serve
from bot.settings import Settings
from tests.fake_telegram import FakeTelegram
from tests.fake_telegram_server import FakeTelegramServer
from tests.school import SchoolBuilder
from tests.telegram_harness import Transport, seed_school, telegram_settings


class Probe:
    """A component that only records its lifecycle (how the scheduler would plug in)."""

    name = "probe"

    def __init__(self) -> None:
        self.transports: dict[str, Transport] = {}
        self.routes: list[BaseRoute] = []
        self.events: list[str] = []

    async def start(self) -> None:
        self.events.append("start")

    async def stop(self) -> None:
        self.events.append("stop")


def test_serve_runs_telegram_and_components_until_stopped(settings: Settings) -> None:
    fake = FakeTelegram()
    with FakeTelegramServer(fake) as server:
        app = AppContext(settings=telegram_settings(settings, fake, server.base_url))
        data = seed_school(app.db, app.settings)
        SchoolBuilder(app.db, app.settings).person(
            "Директорка", "director", None, ("telegram", "9")
        )
        probe = Probe()

        def probe_factory(rt: Runtime) -> Probe:
            return probe

        async def scenario() -> None:
            stop = asyncio.Event()
            task = asyncio.create_task(serve(app, [telegram_component, probe_factory], stop))
            fake.push_text(1001, f"/start {data.parent_code}")
            await fake.until(lambda: "Погоджуєтесь" in fake.last(1001).text, timeout=10)
            # The director's "/" menu has the staff commands; a family's has not.
            await fake.until(lambda: "staff" in fake.menu_for(9), timeout=10)
            assert "staff" not in fake.menu_for(1001) and "menu" in fake.menu_for(1001)
            stop.set()
            await asyncio.wait_for(task, 10)

        asyncio.run(scenario())
        assert probe.events == ["start", "stop"]
        assert fake.calls_to("setMyCommands")
    app.db.dispose()
