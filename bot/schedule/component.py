"""The scheduler as a `classpulse run` component (bot/runtime.py); bot/app.py decides when.

Several processes on one database run the jobs once: only the holder of the lease "scheduler"
(bot/leases.py) runs APScheduler; the others try to take the lease every few seconds and start
theirs within the lease's ttl of the holder's death. A holder that cannot renew stops its
scheduler at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.delivery.contract import Transport
from bot.leases import Lease
from bot.runtime import Runtime, wake_from_threads
from bot.schedule.scheduler import start_scheduler, stop_scheduler

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

logger = logging.getLogger(__name__)

LEASE_NAME = "scheduler"
LEASE_TTL = timedelta(seconds=20)
RENEW_SECONDS = 5.0


class SchedulerComponent:
    name = "scheduler"

    def __init__(self, rt: Runtime, renew_seconds: float = RENEW_SECONDS) -> None:
        self.rt = rt
        self.transports: dict[str, Transport] = {}
        self.routes: list[BaseRoute] = []
        self.scheduler: AsyncIOScheduler | None = None
        self.lease = Lease(rt.db, LEASE_NAME, ttl=LEASE_TTL, clock=rt.clock)
        self.renew_seconds = renew_seconds
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        try:  # the first process starts its scheduler before `run` says "running"
            await self._step()
        except Exception:
            logger.exception("scheduler: could not start; trying again shortly")
        self._task = asyncio.create_task(self._keep(), name="scheduler-lease")

    async def _keep(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.renew_seconds)
            if not self._stop.is_set():
                try:
                    await self._step()
                except Exception:
                    logger.exception("scheduler: lease step failed")

    async def _step(self) -> None:
        held = await self.lease.hold()
        if held and self.scheduler is None:
            # Jobs run in worker threads; the outbox sender lives on the event loop.
            wake = wake_from_threads(self.rt.wake)
            try:
                self.scheduler = await start_scheduler(self.rt.app, wake=wake)
            except Exception:
                await self.lease.release()  # let another process try
                raise
            logger.info("scheduler: this process runs the scheduled jobs")
        elif not held and self.scheduler is not None:
            await stop_scheduler(self.scheduler)
            self.scheduler = None
            logger.warning("scheduler: lease lost, jobs stopped in this process")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
        if self.scheduler is not None:
            await stop_scheduler(self.scheduler)
            self.scheduler = None
        await self.lease.release()
