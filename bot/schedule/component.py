"""The scheduler as a `classpulse run` component (bot/runtime.py); bot/app.py decides when."""

from __future__ import annotations

import asyncio

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from starlette.routing import BaseRoute

from bot.delivery.contract import Transport
from bot.runtime import Runtime
from bot.schedule.scheduler import start_scheduler, stop_scheduler


class SchedulerComponent:
    name = "scheduler"

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.transports: dict[str, Transport] = {}
        self.routes: list[BaseRoute] = []
        self.scheduler: AsyncIOScheduler | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()

        def wake() -> None:
            # Jobs run in worker threads; the outbox sender lives on the event loop.
            loop.call_soon_threadsafe(self.rt.wake)

        self.scheduler = await start_scheduler(self.rt.app, wake=wake)

    async def stop(self) -> None:
        if self.scheduler is not None:
            await stop_scheduler(self.scheduler)
