"""Roles one process at a time may play when several `classpulse run` share a database.

    lease = Lease(db, "poller:telegram", ttl=timedelta(seconds=20))
    if await lease.hold():      # taken, or renewed: ours until now + ttl
        ...                     # work that must end before the ttl runs out, then hold() again
    await lease.release()       # a clean stop: another process takes over at once

A process that dies keeps its lease until the ttl runs out; then the next `hold()` of another
process takes it (within ttl + its retry interval). Times are the processes' clocks (UTC):
keep their clocks in sync (NTP), as any cluster does.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.context import utc_now
from storage.db import Database
from storage.repositories import leases

logger = logging.getLogger(__name__)

PROCESS_ID = f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


class Lease:
    def __init__(
        self,
        db: Database,
        name: str,
        ttl: timedelta = timedelta(seconds=20),
        holder: str = PROCESS_ID,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.db = db
        self.name = name
        self.ttl = ttl
        self.holder = holder
        self.clock = clock
        self.held = False

    def hold_blocking(self) -> bool:
        try:
            with self.db.write() as session:
                held = leases.acquire(session, self.name, self.holder, self.clock(), self.ttl)
        except Exception as exc:  # the database is away: nobody may assume the role
            logger.warning("lease %s: database unavailable (%s)", self.name, type(exc).__name__)
            held = False
        if held != self.held:
            logger.info("lease %s %s", self.name, "taken" if held else "lost")
        self.held = held
        return held

    async def hold(self) -> bool:
        """Take or renew the lease; False if another process holds it."""
        return await asyncio.to_thread(self.hold_blocking)

    async def release(self) -> None:
        if not self.held:
            return
        self.held = False

        def run() -> None:
            with self.db.write() as session:
                leases.release(session, self.name, self.holder, self.clock())

        try:
            await asyncio.to_thread(run)
        except Exception:
            logger.warning("lease %s: could not release; it expires on its own", self.name)
